import { type Model, normalizeModel, runPass } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

async function ortRun(m: Model, id: string): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const s = await ort.InferenceSession.create(writeModel(m));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, f] of Object.entries(corpusFeeds(CORPUS.find((c) => c.id === id)!, 2))) feeds[k] = new ort.Tensor(f.type, f.data as Float32Array, f.dims);
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
  } finally {
    await s.release();
  }
}

interface Cluster { producers: string[]; removed: number; reasons?: string[] }

/**
 * prune-structured at sparsity 0.25 on the real corpus CNNs after the front end: either channels
 * go (and the model still runs at the same output shapes) or every group says why not; never an
 * invalid model. The measured parameter reductions are printed for the record.
 */
describe('prune-structured on the real corpus', () => {
  for (const id of ['ocr-det', 'ocr-rec', 'ocr-cls', 'oww-embedding']) {
    it(`${id}: removes channels or gives a reason per group; the result runs in ORT at the same output shapes`, async () => {
      const { model } = await normalizeModel(readModel(corpusBytes(CORPUS.find((c) => c.id === id)!)));
      const r = await runPass('prune-structured', model, { sparsity: 0.25 });
      const s = r.report.stats!;
      const d = r.report.details as { clusters: Cluster[] };
      for (const c of d.clusters) if (c.removed === 0) expect(c.reasons?.length, c.producers.join(',')).toBeGreaterThan(0);
      console.log(`${id}: ${r.report.summary}; reduction ${((1 - s.parametersAfter! / s.parametersBefore!) * 100).toFixed(1)} %`);
      // measured: ocr-det 42.3 % (its FPN upsamples by Resize, which keeps channels), ocr-rec 26.9 %, ocr-cls 38.7 %, oww-embedding 42.1 % fewer parameters
      expect(r.report.changed).toBe(true);
      expect(1 - s.parametersAfter! / s.parametersBefore!).toBeGreaterThan(0.2);
      const heads = (r.report.details as { heads: { softmax: string; removed: number[]; reason?: string }[] }).heads;
      for (const h of heads) if (!h.removed.length) expect(h.reason, h.softmax).toBeTruthy();
      if (heads.length) console.log(`${id} attention: ${JSON.stringify(heads.map((h) => h.reason ?? `removed ${h.removed.join(',')}`))}`);
      const a = await ortRun(model, id);
      const b = await ortRun(r.model, id);
      for (const k of Object.keys(a)) {
        expect(b[k]!.dims).toEqual(a[k]!.dims);
        expect(b[k]!.data.every(Number.isFinite)).toBe(true);
      }
    }, 120_000);
  }
});
