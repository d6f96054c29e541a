import { type Feeds, type Model, type PassResult, graphScopes, localizeInitializers, normalizeModel, runPass } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { createOrtRunner, type OrtFeed } from '@whittle/eval/node';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { optimumDecoder, torchTransformerEncoder } from '@whittle/testing/exporters';
import { describe, expect, it } from 'vitest';
import { Rng, diff, layersOf, model, node, randn, t } from './helpers.js';

/** Run a model in onnxruntime-node (written by @whittle/onnx); every output as float32. */
async function ort(m: Model, feeds: Record<string, OrtFeed>): Promise<Record<string, Float32Array>> {
  const r = await createOrtRunner(writeModel(m));
  try {
    const out = await r.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data]));
  } finally {
    await r.release();
  }
}

/** What the front end does before a technique runs. */
async function frontEnd(m: Model): Promise<Model> {
  const n = (await normalizeModel(m)).model;
  localizeInitializers(n.graph);
  return n;
}

const bytes = (m: Model): number => writeModel(m).length;
const stat = (r: PassResult, k: string): number => r.report.stats![k] as number;
type Skip = { name: string; reason: string };
const skipsOf = (r: PassResult): Skip[] => (r.report.details?.['skipped'] ?? []) as Skip[];

let lastMaxAbs = 0;
let lastRms = 0;

/**
 * Relative output error (‖Δ‖/‖y‖, worst output) of `after` vs `before` in onnxruntime-node; the
 * max |Δ| and the rms of the reference output are kept for the log.
 */
async function outputError(before: Model, after: Model, feeds: Record<string, OrtFeed>): Promise<number> {
  const [a, b] = [await ort(before, feeds), await ort(after, feeds)];
  let worst = 0;
  for (const k of Object.keys(a)) {
    expect(b[k]!.every((v) => Number.isFinite(v))).toBe(true);
    const d = diff(b[k]!, a[k]!);
    if (d.rel >= worst) {
      worst = d.rel;
      lastMaxAbs = d.maxAbs;
      lastRms = Math.sqrt(a[k]!.reduce((s, v) => s + v * v, 0) / Math.max(1, a[k]!.length));
    }
  }
  return worst;
}

const log = (what: string, r: PassResult, err: number, before: Model): void => {
  console.log(`${what}: ${r.report.summary}; file ${bytes(before)} → ${bytes(r.model)} bytes; output relative error ${err.toExponential(2)} (max |Δ| ${lastMaxAbs.toExponential(2)}, reference rms ${lastRms.toExponential(2)})`);
};

describe('lowrank on a torch-exported transformer encoder (opset 14)', () => {
  const src = torchTransformerEncoder({ seed: 1 });
  const rng = new Rng(2);
  const feeds = { src: { data: randn(rng, 2 * 5 * 64), dims: [2, 5, 64] } };

  it('default energy 0.9 on random-like weights factorizes nothing: changed false with the reason, the input returned as it was', async () => {
    const m = await frontEnd(src);
    const r = await runPass('lowrank', m, {});
    expect(r.report.changed).toBe(false);
    expect(r.report.details?.['reason']).toBe('energy 0.9 needs rank ≥ break-even on all 12 layers; try --rank-selection budget --target-ratio 0.5');
    expect(r.report.summary).toContain('energy 0.9 needs rank ≥ break-even on all 12 layers');
    expect(bytes(r.model)).toBe(bytes(m));
    // activation products are skipped with a reason naming what computes input B
    expect(skipsOf(r).filter((s) => s.reason.startsWith('input B is computed by'))).toHaveLength(4);
  });

  it('the output is never larger than the input, whatever the rank policy', async () => {
    const m = await frontEnd(src);
    const size = bytes(m);
    for (const o of [{}, { energy: 0.97 }, { rankSelection: 'fixed', rank: 31 }, { rankSelection: 'fixed', rank: 40 }, { rankSelection: 'error', maxError: 0.3 }, { rankSelection: 'budget', targetRatio: 0.9 }]) {
      const r = await runPass('lowrank', m, o);
      expect(bytes(r.model), JSON.stringify(o)).toBeLessThanOrEqual(size);
      if (r.report.changed) expect(stat(r, 'bytesAfter')).toBeLessThan(stat(r, 'bytesBefore'));
      else expect(r.report.details?.['reason'], JSON.stringify(o)).toBeTruthy();
    }
  });

  it('--rank-selection budget --target-ratio 0.5 halves the parameters, the file shrinks, the result runs in onnxruntime-node', async () => {
    const m = await frontEnd(src);
    const r = await runPass('lowrank', m, { rankSelection: 'budget', targetRatio: 0.5 });
    expect(r.report.changed).toBe(true);
    expect(stat(r, 'paramRatio')).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(stat(r, 'paramRatio')).toBeGreaterThan(0.4);
    expect(bytes(r.model)).toBeLessThan(0.65 * bytes(m));
    const err = await outputError(m, r.model, feeds);
    log('transformer budget 0.5', r, err, m);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(1);
  });
});

describe('lowrank on an Optimum merged decoder (If with shared weights, tied embedding)', () => {
  const layers = 2;
  const feedsFor = (tokens: number[], past: Float32Array[] | null, pastLen: number): Record<string, OrtFeed> => {
    const f: Record<string, OrtFeed> = {
      input_ids: { data: BigInt64Array.from(tokens.map(BigInt)), dims: [1, tokens.length] },
      attention_mask: { data: new BigInt64Array(pastLen + tokens.length).fill(1n), dims: [1, pastLen + tokens.length] },
      use_cache_branch: { data: Uint8Array.of(past ? 1 : 0), dims: [1], type: 'bool' },
    };
    for (let i = 0; i < layers; i++) {
      f[`past_key_values.${i}.key`] = { data: past?.[2 * i] ?? new Float32Array(0), dims: [1, 4, pastLen, 16] };
      f[`past_key_values.${i}.value`] = { data: past?.[2 * i + 1] ?? new Float32Array(0), dims: [1, 4, pastLen, 16] };
    }
    return f;
  };
  const ids = [5, 99, 250, 7, 31, 64];

  it('factorizes each shared weight once for both branches, keeps the tied embedding (one table, reason given), and both branches run', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 3 }));
    const r = await runPass('lowrank', m, { rankSelection: 'budget', targetRatio: 0.5 });
    expect(r.report.changed).toBe(true);
    const ls = layersOf(r) as (ReturnType<typeof layersOf>[number] & { readers: number })[];
    expect(ls.length).toBeGreaterThan(0);
    expect(ls.every((l) => l.readers === 2)).toBe(true);
    // the factors live once in the main graph, read by both branches; the dense weights are gone
    const main = r.model.graph;
    const factors = [...main.initializers.keys()].filter((k) => k.includes('.lowrank_'));
    expect(factors).toHaveLength(2 * ls.length);
    for (const s of graphScopes(main).slice(1)) expect([...s.graph.initializers.keys()].some((k) => k.includes('.lowrank_'))).toBe(false);
    // tied: the MatMul reading Transpose(wte) is left dense in both branches with the reason, and the table exists once
    const tied = skipsOf(r).filter((s) => s.reason.startsWith('tied with Gather'));
    expect(tied).toHaveLength(2);
    const tables = [...main.initializers.values()].filter((v) => v.shape.join() === '256,64' || v.shape.join() === '64,256');
    expect(tables.filter((v) => v.shape.join() === '256,64')).toHaveLength(1);
    expect(main.initializers.has('transformer.wte.weight')).toBe(true);
    expect(stat(r, 'paramRatio')).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(bytes(r.model)).toBeLessThan(bytes(m));

    // without past (whole sequence) and with past (one step) against the original
    const full = await outputError(m, r.model, feedsFor(ids, null, 0));
    const keys = ['present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'];
    const pastOf = async (x: Model): Promise<Float32Array[]> => {
      const pre = await ort(x, feedsFor(ids.slice(0, 5), null, 0));
      return keys.map((k) => pre[k]!);
    };
    const stepOrig = await ort(m, feedsFor(ids.slice(5), await pastOf(m), 5));
    const stepNew = await ort(r.model, feedsFor(ids.slice(5), await pastOf(r.model), 5));
    const fullNew = await ort(r.model, feedsFor(ids, null, 0));
    // the factorized model is self-consistent: decoding with its own past equals decoding the whole sequence
    expect(diff(stepNew['logits']!, fullNew['logits']!.slice(5 * 256)).maxAbs).toBeLessThan(1e-4);
    const step = diff(stepNew['logits']!, stepOrig['logits']!).rel;
    log('optimum decoder budget 0.5 (no past)', r, full, m);
    console.log(`optimum decoder budget 0.5 (with past, one step): logits relative error ${step.toExponential(2)}`);
    expect(step).toBeLessThan(1);
    expect(full).toBeLessThan(1);
  });

  it('default energy 0.9: the output is not larger; a weight read through both branches is counted once', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 3 }));
    const r = await runPass('lowrank', m, {});
    expect(bytes(r.model)).toBeLessThanOrEqual(bytes(m));
    const err = r.report.changed ? await outputError(m, r.model, feedsFor(ids, null, 0)) : 0;
    log('optimum decoder default', r, err, m);
    for (const l of layersOf(r)) expect(l.paramsAfter).toBeLessThan(l.paramsBefore);
  });
});

describe('lowrank in subgraphs: activation-aware modes and fine-tuning skip them with a reason', () => {
  function ifModel(): Model {
    const rng = new Rng(9);
    const branch = (tag: string, w: string): Model['graph'] => ({
      name: tag, nodes: [node('MatMul', ['h', w], [`${tag}_y`])], inputs: [], outputs: [{ name: `${tag}_y`, type: null }],
      valueInfo: new Map(), initializers: new Map([[w, t(randn(rng, 32 * 8), [32, 8])]]), rawInitializers: new Map(),
    });
    const m = model([node('MatMul', ['x', 'w0'], ['h']), node('ReduceSum', ['x'], ['s'], {}, 'sum')], { x: ['B', 32] }, ['y'], { w0: t(randn(rng, 32 * 32), [32, 32]) });
    const g = m.graph;
    const cond = node('Greater', ['s_scalar', 'zero'], ['cond']);
    g.initializers.set('zero', t([0], []));
    g.nodes.push(node('ReduceSum', ['s'], ['s_scalar'], { keepdims: { type: 'int', value: 0 } }, 'sum2'), cond);
    g.nodes.push(node('If', ['cond'], ['y'], { then_branch: { type: 'graph', value: branch('then', 'w_then') }, else_branch: { type: 'graph', value: branch('else', 'w_else') } }));
    return m;
  }
  async function* calibration(): AsyncIterable<Feeds> {
    const rng = new Rng(4);
    for (let i = 0; i < 2; i++) yield { x: t(randn(rng, 16 * 32), [16, 32]) };
  }

  it("'whiten' factorizes the main-graph layer and skips the If-branch layers with the reason", async () => {
    const m = ifModel();
    const r = await runPass('lowrank-linear', m, { activationAware: 'whiten', rankSelection: 'fixed', rank: 4 }, { calibration: calibration() });
    expect(layersOf(r).map((l) => l.name)).toEqual(['h']);
    const sk = skipsOf(r);
    expect(sk).toHaveLength(2);
    expect(sk.every((s) => s.reason.includes("activation statistics ('whiten') are collected on the main graph only"))).toBe(true);
    const x = { x: { data: randn(new Rng(5), 3 * 32), dims: [3, 32] } };
    expect(Number.isFinite(await outputError(m, r.model, x))).toBe(true);
  });

  it('plain SVD factorizes the branch weights inside their own subgraphs', async () => {
    const m = ifModel();
    const r = await runPass('lowrank-linear', m, { rankSelection: 'fixed', rank: 2 });
    const ls = layersOf(r) as (ReturnType<typeof layersOf>[number] & { scope: string })[];
    expect(ls.map((l) => l.scope).sort()).toEqual(graphScopes(m.graph).map((sc) => sc.path).sort());
    const [thenG] = graphScopes(r.model.graph).slice(1).map((s) => s.graph);
    expect([...thenG!.initializers.keys()].every((k) => k.includes('.lowrank_'))).toBe(true);
    const x = { x: { data: randn(new Rng(5), 3 * 32), dims: [3, 32] } };
    expect(await outputError(m, r.model, x)).toBeLessThan(1.5);
  });
});

describe('lowrank on corpus models', () => {
  const cases: { id: string; options: Record<string, unknown>[] }[] = [
    { id: 'oww-hey-jarvis', options: [{}, { rankSelection: 'budget', targetRatio: 0.5 }] },
    { id: 'oww-embedding', options: [{}, { rankSelection: 'budget', targetRatio: 0.5 }] },
    // the 48 convolutions of the detector take ~30 s; the larger ones (>= 60k weights) keep this test short
    { id: 'ocr-det', options: [{ minParams: 60000 }, { rankSelection: 'budget', targetRatio: 0.5, minParams: 60000 }] },
  ];
  for (const c of cases) {
    it(`${c.id}: loads in onnxruntime-node after factorizing, fewer parameters, smaller file, error reported`, async () => {
      const entry = CORPUS.find((e) => e.id === c.id)!;
      const m = await frontEnd(readModel(corpusBytes(entry)));
      const feeds = corpusFeeds(entry, 1) as Record<string, OrtFeed>;
      for (const o of c.options) {
        const r = await runPass('lowrank', m, o);
        expect(r.report.changed, `${c.id} ${JSON.stringify(o)}: ${r.report.summary}`).toBe(true);
        expect(stat(r, 'paramsAfter')).toBeLessThan(stat(r, 'paramsBefore'));
        expect(bytes(r.model)).toBeLessThan(bytes(m));
        if (o['rankSelection'] === 'budget' && !o['minParams']) expect(stat(r, 'paramRatio')).toBeLessThanOrEqual(0.5 + 1e-9);
        const err = await outputError(m, r.model, feeds);
        log(`${c.id} ${JSON.stringify(o)}`, r, err, m);
        expect(Number.isFinite(err)).toBe(true);
      }
    }, 60_000);
  }
});
