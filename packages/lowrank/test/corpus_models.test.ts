import { type Model, type PassResult, PassManager, getPass, opsetVersion } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { createOrtRunner, type OrtFeed } from '@whittle/eval/node';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

/** Run a model in onnxruntime-node; every output as float32. */
async function ort(m: Model | Uint8Array, feeds: Record<string, OrtFeed>): Promise<Record<string, Float32Array>> {
  const r = await createOrtRunner(m instanceof Uint8Array ? m : writeModel(m));
  try {
    const out = await r.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await r.release();
  }
}

/** Worst relative error ‖Δ‖/‖y‖ and lowest cosine over the outputs, original file vs result. */
async function compare(original: Uint8Array, after: Model, feeds: Record<string, OrtFeed>): Promise<{ rel: number; cos: number }> {
  const [a, b] = [await ort(original, feeds), await ort(after, feeds)];
  let rel = 0;
  let cos = 1;
  for (const k of Object.keys(a)) {
    const [x, y] = [a[k]!, b[k]!];
    expect(y.length).toBe(x.length);
    expect(y.every((v) => Number.isFinite(v))).toBe(true);
    let num = 0;
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = 0; i < x.length; i++) {
      num += (x[i]! - y[i]!) ** 2;
      xx += x[i]! ** 2;
      yy += y[i]! ** 2;
      xy += x[i]! * y[i]!;
    }
    rel = Math.max(rel, Math.sqrt(num / (xx || 1)));
    cos = Math.min(cos, xx && yy ? xy / Math.sqrt(xx * yy) : 1);
  }
  return { rel, cos };
}

/** What the CLI runs: the front end, then 'lowrank', refusing a run that compresses nothing. */
async function cli(bytes: Uint8Array, options: Record<string, unknown>): Promise<PassResult> {
  const r = await new PassManager({ frontEnd: true, requireCompression: true }).add(getPass('lowrank'), options).run(readModel(bytes));
  return { model: r.model, report: r.steps[0]!.report };
}

type Layer = { name: string; shape: string; kind: string; relativeError: number };
const layersOf = (r: PassResult): Layer[] => (r.report.details?.['layers'] ?? []) as Layer[];
const entry = (id: string): (typeof CORPUS)[number] => CORPUS.find((e) => e.id === id)!;

describe('lowrank on the corpus models it used to fail on', () => {
  it('ocr-rec: the 60x240 1x1 conv with 25 dead output channels (the SVD used to throw) is factorized and runs', async () => {
    const e = entry('ocr-rec');
    const bytes = corpusBytes(e);
    const r = await cli(bytes, { include: ['p2o.Conv.22'] });
    expect(layersOf(r).map((l) => l.shape)).toEqual(['60x240x1x1']);
    const { rel, cos } = await compare(bytes, r.model, corpusFeeds(e, 1) as Record<string, OrtFeed>);
    console.log(`ocr-rec p2o.Conv.22: ${r.report.summary}; weight error ${layersOf(r)[0]!.relativeError.toExponential(2)}, output relative error ${rel.toExponential(2)}, cosine ${cos.toFixed(4)}`);
    expect(rel).toBeLessThan(1);
  });

  it('ocr-cls (opset 9): factorized Gemms are valid Gemm-9 (explicit C) and run; default and budget 0.5', async () => {
    const e = entry('ocr-cls');
    const bytes = corpusBytes(e);
    expect(opsetVersion(readModel(bytes))).toBe(9);
    const feeds = corpusFeeds(e, 1) as Record<string, OrtFeed>;
    for (const o of [{}, { rankSelection: 'budget', targetRatio: 0.5 }]) {
      const r = await cli(bytes, o);
      expect(r.report.changed).toBe(true);
      const gemms = r.model.graph.nodes.filter((n) => n.opType === 'Gemm');
      expect(gemms.length).toBeGreaterThan(0);
      for (const n of gemms) expect(n.inputs.length, n.name).toBe(3);
      expect(writeModel(r.model).length).toBeLessThan(bytes.length);
      const { rel, cos } = await compare(bytes, r.model, feeds);
      console.log(`ocr-cls ${JSON.stringify(o)}: ${r.report.summary}; output relative error ${rel.toExponential(2)}, cosine ${cos.toFixed(4)}`);
      if (!o.rankSelection) expect(rel).toBeLessThan(0.2); // energy 0.9 keeps the classifier's softmax close
      expect(rel).toBeLessThan(1);
    }
  });

  for (const id of ['vad-16k-op15', 'vad-v5', 'vad-legacy']) {
    it(`${id}: Conv1d layers are factorized (default and budget 0.5), smaller file, runs in onnxruntime`, async () => {
      const e = entry(id);
      const bytes = corpusBytes(e);
      const feeds = corpusFeeds(e, 1) as Record<string, OrtFeed>;
      for (const o of [{}, { rankSelection: 'budget', targetRatio: 0.5 }]) {
        const r = await cli(bytes, o);
        expect(r.report.changed).toBe(true);
        const ls = layersOf(r);
        expect(ls.length).toBeGreaterThan(0);
        expect(ls.every((l) => l.shape.split('x').length === 3)).toBe(true);
        expect(writeModel(r.model).length).toBeLessThan(bytes.length);
        const { rel, cos } = await compare(bytes, r.model, feeds);
        console.log(`${id} ${JSON.stringify(o)}: ${r.report.summary}; output relative error ${rel.toExponential(2)}, cosine ${cos.toFixed(4)}`);
      }
    });
  }

  it('vad-16k-op15: every Conv1d at full rank (forced) by channel SVD and by Tucker-2 reproduces the original outputs', async () => {
    const e = entry('vad-16k-op15');
    const bytes = corpusBytes(e);
    const feeds = corpusFeeds(e, 1) as Record<string, OrtFeed>;
    for (const convMethod of ['spatial-svd', 'tucker2']) {
      // (Tucker-2 at full rank keeps only the core conv; its pointwise convs are checked in conv1d.test.ts)
      const r = await new PassManager({ frontEnd: true }).add(getPass('lowrank'), { rankSelection: 'fixed', rank: 100000, allowNoSavings: true, convMethod }).run(readModel(bytes));
      const ls = layersOf({ model: r.model, report: r.steps[0]!.report });
      expect(ls).toHaveLength(6);
      const { rel } = await compare(bytes, r.model, feeds);
      expect(rel, convMethod).toBeLessThan(1e-4);
    }
  });
});
