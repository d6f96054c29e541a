/**
 * Exporter-style fixtures: an opset-14 torch transformer encoder (never larger after quantizing,
 * shared weights once), torchvision convs with bias under dynamic int8, the below-opset-21 forms
 * (MatMulNBits, GatherBlockQuantized, per-channel int8, Cast+Mul) and honest no-op reports.
 */
import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, GraphBuilder, cloneModel, runPass, tensorInfo } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { torchTransformerEncoder, torchvisionResnet18 } from '@whittle/testing/exporters';
import '../src/index.js';
import { findModelWeightSites, quantizeRtn, canonical } from '../src/weights.js';
import { writeQuantizedWeights } from '../src/write_weights.js';
import { mixedFeeds, mixedModel, ortRun, randTensor } from './helpers.js';
import { cosine, frontEnd, opCounts, weightBytes } from './real_models.js';

function ids(n: number, t: number, vocab: number, seed: number): { data: BigInt64Array; dims: number[] } {
  const rng = new Rng(seed);
  return { data: BigInt64Array.from({ length: n * t }, () => BigInt(rng.int(vocab))), dims: [n, t] };
}

async function agree(a: Model, b: Model, feeds: Parameters<typeof ortRun>[1]): Promise<number> {
  const ra = await ortRun(a, feeds);
  const rb = await ortRun(b, feeds);
  return Math.min(...Object.keys(ra).map((k) => cosine(ra[k]!, rb[k]!)));
}

describe('opset-14 torch transformer encoder: never larger, shared weights once', () => {
  it('quantize-dynamic, quantize-weights (qdq, matmulnbits) make the weights smaller and run in onnxruntime', async () => {
    const m = await frontEnd(torchTransformerEncoder({ vocab: 100, layers: 2, dModel: 64, ffn: 128 }));
    const feeds = { input_ids: ids(2, 8, 100, 1) };
    const before = weightBytes(m);
    for (const [pass, opts, tol] of [['quantize-dynamic', {}, 0.98], ['quantize-weights', {}, 0.95], ['quantize-weights', { format: 'matmulnbits' }, 0.95], ['quantize-weights', { bits: 8, granularity: 'per-channel' }, 0.995]] as const) {
      const r = await runPass(pass, m, opts);
      expect(r.report.changed, `${pass} ${JSON.stringify(opts)}`).toBe(true);
      const after = weightBytes(r.model);
      expect(after, `${pass} ${JSON.stringify(opts)}: ${before} -> ${after}`).toBeLessThan(before);
      expect(await agree(m, r.model, feeds)).toBeGreaterThanOrEqual(tol);
    }
  });

  it('a weight read by several MatMuls is quantized once and all readers share it', async () => {
    const rng = new Rng(5);
    const b = new GraphBuilder('shared');
    const x = b.input('x', 'float32', ['N', 64]);
    const w = b.initializer('w', randTensor([64, 64], rng, 0.1));
    const h1 = b.node('MatMul', [x, w], {}, { name: 'mm1' });
    const h2 = b.node('MatMul', [b.node('Relu', [h1]), w], {}, { name: 'mm2' });
    b.output(b.node('MatMul', [b.node('Tanh', [h2]), w], {}, { name: 'mm3' }), 'float32', ['N', 64]);
    const m = b.model([{ domain: '', version: 14 }]);
    const feeds = { x: { data: Float32Array.from({ length: 4 * 64 }, () => rng.normal()), dims: [4, 64] } };
    for (const [pass, opts] of [['quantize-weights', {}], ['quantize-weights', { format: 'matmulnbits' }], ['quantize-dynamic', {}]] as const) {
      const r = await runPass(pass, m, opts);
      const ints = [...r.model.graph.initializers.values()].filter((t) => t.dtype !== 'float32' && t.size >= 64 * 64 / 2);
      expect(ints, `${pass} ${JSON.stringify(opts)}`).toHaveLength(1);
      expect(weightBytes(r.model)).toBeLessThan(0.3 * weightBytes(m));
      expect(await agree(m, r.model, feeds)).toBeGreaterThan(0.97);
    }
  });

  it('tiny weights are left in float with the reason', async () => {
    const rng = new Rng(2);
    const b = new GraphBuilder('tiny');
    const x = b.input('x', 'float32', ['N', 4]);
    b.output(b.node('MatMul', [x, b.initializer('w', randTensor([4, 4], rng))]), 'float32', ['N', 4]);
    const m = b.model([{ domain: '', version: 21 }]);
    for (const pass of ['quantize-weights', 'quantize-dynamic', 'cluster-weights']) {
      const r = await runPass(pass, m, {});
      expect(r.report.changed).toBe(false);
      expect(r.report.summary).toMatch(/not smaller/);
      expect((r.report.details as { reason: string }).reason).toMatch(/1 weights skipped/);
      expect(weightBytes(r.model)).toBe(weightBytes(m));
    }
  });

  it('weights still in Constant nodes: nothing quantized, the reason says to normalize', async () => {
    const b = new GraphBuilder('consts');
    const x = b.input('x', 'float32', ['N', 64]);
    const w = b.node('Constant', [], { value: randTensor([64, 64], new Rng(1)) });
    b.output(b.node('MatMul', [x, w]), 'float32', ['N', 64]);
    const m = b.model([{ domain: '', version: 17 }]);
    const r = await runPass('quantize-weights', m, {});
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/Constant node/);
    expect(r.report.summary).toMatch(/normalize/);
  });
});

describe('quantize-dynamic on Conv with bias (torchvision resnet18, BN folded)', () => {
  for (const normalized of [true, false]) {
    it(`${normalized ? 'after the front end' : 'as exported (bias through Identity)'}: onnxruntime loads it, cosine >= 0.98`, async () => {
      const exported = torchvisionResnet18({ height: 32, width: 32, classes: 10, seed: 3 });
      const m = normalized ? await frontEnd(exported) : exported;
      const rng = new Rng(4);
      const feeds = { input: { data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.normal()), dims: [2, 3, 32, 32] } };
      const r = await runPass('quantize-dynamic', m, {});
      expect(opCounts(r.model).ConvInteger ?? 0).toBeGreaterThan(normalized ? 15 : 5);
      // as exported, some weights come out of Identity nodes: counted, with the reason
      if (!normalized) expect(r.report.summary).toMatch(/weight computed by a Identity node/);
      expect(await agree(m, r.model, feeds)).toBeGreaterThanOrEqual(0.98);
    });
  }
});

describe('quantize-dynamic: Conv bias that is no initializer', () => {
  it('a bias from a Constant node is reshaped to [1, C, 1, 1] in-graph (onnxruntime used to reject the Add)', async () => {
    const rng = new Rng(1);
    const b = new GraphBuilder('cb');
    const x = b.input('x', 'float32', [1, 4, 8, 8]);
    const bias = b.node('Constant', [], { value: randTensor([16], rng, 0.1) });
    b.output(b.node('Conv', [x, b.initializer('w', randTensor([16, 4, 3, 3], rng, 0.3)), bias], { kernel_shape: [3, 3] }), 'float32', [1, 16, 6, 6]);
    const m = b.model([{ domain: '', version: 17 }]);
    const r = await runPass('quantize-dynamic', m, {});
    expect(opCounts(r.model).ConvInteger).toBe(1);
    expect(opCounts(r.model).Reshape).toBe(1);
    const feeds = { x: { data: Float32Array.from({ length: 256 }, () => rng.normal()), dims: [1, 4, 8, 8] } };
    expect(await agree(m, r.model, feeds)).toBeGreaterThan(0.99);
  });
});

describe('forms below opset 21 (the model kept at its opset)', () => {
  async function written(opset: number, bits: number): Promise<{ model: Model; forms: Record<string, number>; fallbacks: string[] }> {
    const model = cloneModel(mixedModel(1, opset));
    const sites = findModelWeightSites(model, ['MatMul', 'Gemm', 'Gather']);
    const entries = [];
    for (const site of sites) {
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      entries.push({ site, q: quantizeRtn(w, site.rows, site.cols, { bits, symmetric: true, granularity: 'block', blockSize: 16 }) });
    }
    const r = await writeQuantizedWeights(model, entries, 'qdq');
    return { model, forms: r.forms, fallbacks: r.layers.map((l) => `${l.op}:${l.emitted}:${l.fallback}`) };
  }
  it('opset 17: MatMul/Gemm -> MatMulNBits, Gather -> GatherBlockQuantized, with the reason; onnxruntime agrees', async () => {
    const { model, forms, fallbacks } = await written(17, 4);
    expect(forms).toEqual({ MatMulNBits: 3, GatherBlockQuantized: 1 });
    expect(fallbacks.every((f) => f.includes('block-wise DequantizeLinear needs opset 21, model has 17'))).toBe(true);
    const feeds = mixedFeeds(6);
    expect(await agree(mixedModel(1, 17), model, feeds)).toBeGreaterThan(0.98);
  });
  it('opset 9 Gemm with transB and bias, 4-bit: MatMulNBits; a Conv becomes int8 Cast+Mul per channel', async () => {
    const rng = new Rng(9);
    const b = new GraphBuilder('old');
    const x = b.input('x', 'float32', [2, 4, 8, 8]);
    const c = b.node('Conv', [x, b.initializer('cw', randTensor([16, 4, 3, 3], rng, 0.3)), b.initializer('cb', randTensor([16], rng, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const f = b.node('Flatten', [b.node('Relu', [c])], { axis: 1 });
    const y = b.node('Gemm', [f, b.initializer('gw', randTensor([10, 1024], rng, 0.05)), b.initializer('gb', randTensor([10], rng, 0.1))], { transB: 1 });
    b.output(y, 'float32', [2, 10]);
    const m = b.model([{ domain: '', version: 9 }]);
    const model = cloneModel(m);
    const entries = [];
    for (const site of findModelWeightSites(model, ['Conv', 'Gemm'])) {
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      entries.push({ site, q: quantizeRtn(w, site.rows, site.cols, { bits: 4, symmetric: true, granularity: site.blockAxis < 0 ? 'per-channel' : 'block', blockSize: 32 }) });
    }
    const r = await writeQuantizedWeights(model, entries, 'qdq');
    expect(r.forms).toEqual({ 'Cast+Mul': 1, MatMulNBits: 1 });
    expect(r.layers.find((l) => l.op === 'Conv')!.fallback).toMatch(/per-channel DequantizeLinear needs opset 13, model has 9: int8 \+ Cast \+ Mul per-channel/);
    const feeds = { x: { data: Float32Array.from({ length: 2 * 4 * 64 }, () => rng.normal()), dims: [2, 4, 8, 8] } };
    expect(await agree(m, model, feeds)).toBeGreaterThan(0.98);
  });
});

describe('calibrating passes count the subgraph weights they skip', () => {
  it('gptq and quantize-static report weights inside If branches with the reason', async () => {
    const rng = new Rng(3);
    const branch = (name: string): ReturnType<GraphBuilder['build']> => {
      const sb = new GraphBuilder(name);
      sb.output(sb.node('MatMul', ['h', sb.initializer(`${name}_w`, randTensor([32, 32], rng, 0.2))]), 'float32', ['N', 32]);
      return sb.build();
    };
    const b = new GraphBuilder('ifmodel');
    const x = b.input('x', 'float32', ['N', 32]);
    const cond = b.input('cond', 'bool', []);
    b.node('MatMul', [x, b.initializer('w0', randTensor([32, 32], rng, 0.2))], {}, { name: 'mm0', outputNames: ['h'] });
    b.output(b.node('If', [cond], { then_branch: branch('then'), else_branch: branch('else') }), 'float32', ['N', 32]);
    const m = b.model([{ domain: '', version: 17 }]);
    async function* calib(): AsyncGenerator<Feeds> {
      for (let i = 0; i < 2; i++) yield { x: randTensor([8, 32], rng), cond: tensor(Uint8Array.from([1]), [], 'bool', { backend: 'cpu' }) };
    }
    const g = await runPass('gptq', m, { blockSize: 16 }, { calibration: calib() });
    expect(g.report.summary).toMatch(/2 weights skipped: 2 inside a subgraph/);
    expect((g.report.details as { skipped: unknown[] }).skipped).toHaveLength(2);
    const s = await runPass('quantize-static', m, {}, { calibration: calib() });
    expect(s.report.warnings!.join(' ')).toMatch(/2 skipped \(inside a subgraph/);
  });
});

describe('IR 3 exporters: every initializer also listed as a graph input', () => {
  it('the front end makes them constants: BatchNorm folds, dynamic int8 and weight quantization shrink the model and agree in onnxruntime', async () => {
    const rng = new Rng(4);
    const b = new GraphBuilder('ir3');
    const x = b.input('data', 'float32', [1, 8, 8, 8]);
    const bn = (c: number, tag: string): string[] => ['scale', 'bias', 'mean', 'var'].map((k) => b.initializer(`${tag}_${k}`, k === 'var' ? tensor(Float32Array.from({ length: c }, () => 0.5 + rng.uniform(0, 1)), [c], 'float32', { backend: 'cpu' }) : randTensor([c], rng, k === 'scale' ? 1 : 0.1)));
    let h = b.node('Conv', [x, b.initializer('conv1_w', randTensor([32, 8, 3, 3], rng, 0.2))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    h = b.node('Relu', [b.node('BatchNormalization', [h, ...bn(32, 'bn1')], { epsilon: 1e-5 })]);
    h = b.node('Conv', [h, b.initializer('conv2_w', randTensor([32, 32, 3, 3], rng, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    h = b.node('Relu', [b.node('BatchNormalization', [h, ...bn(32, 'bn2')], { epsilon: 1e-5 })]);
    h = b.node('Flatten', [b.node('GlobalAveragePool', [h])], { axis: 1 });
    b.output(b.node('Gemm', [h, b.initializer('fc_w', randTensor([64, 32], rng, 0.2)), b.initializer('fc_b', randTensor([64], rng, 0.1))], { transB: 1 }), 'float32', [1, 64]);
    const m = b.model([{ domain: '', version: 8 }]);
    m.irVersion = 3;
    for (const [k, t] of m.graph.initializers) m.graph.inputs.push(tensorInfo(k, 'float32', [...t.shape]));
    const feeds = { data: { data: Float32Array.from({ length: 512 }, () => rng.normal()), dims: [1, 8, 8, 8] } };

    const front = await frontEnd(m);
    expect(front.graph.inputs.map((v) => v.name)).toEqual(['data']);
    expect(front.irVersion).toBe(4);
    expect(opCounts(front).BatchNormalization).toBeUndefined();
    expect(await agree(m, front, feeds)).toBeGreaterThan(0.99999);
    for (const [pass, tol] of [['quantize-dynamic', 0.98], ['quantize-weights', 0.95]] as const) {
      const r = await runPass(pass, front, {});
      expect(r.report.changed, pass).toBe(true);
      expect(weightBytes(r.model), pass).toBeLessThan(0.4 * weightBytes(m));
      expect(await agree(m, r.model, feeds), pass).toBeGreaterThanOrEqual(tol);
    }
  });
});
