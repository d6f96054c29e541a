/**
 * Weight-only quantization of float16 models (what `model_fp16.onnx` downloads are): the weights
 * are quantized from their float16 values with the float32 arithmetic, the scales are written in
 * float16, and the graph stays float16 (inputs, outputs, activations), in onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import { type Model, runPass } from '@whittle/graph';
import { float32ToFloat16Bits } from '@whittle/tensor';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import '../src/index.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { quantizeHqqPass } from '../src/hqq.js';
import { findModelWeightSites, quantizeRtn, canonical, siteValues } from '../src/weights.js';
import { writeQuantizedWeights } from '../src/write_weights.js';
import { mixedFeeds, mixedModel, modelBytes, ortRun, relError } from './helpers.js';
import { imageInput, resnetCnn } from './models.js';
import { cosine, frontEnd } from './real_models.js';
import { decodedWeights, halfModel, ioTypes, ortRunHalf } from './float16_helpers.js';

const INTEGER_TYPES = new Set(['int8', 'uint8', 'int4', 'uint4']);

/**
 * The fp16 model quantized equals the float32 model holding the same (decoded) values quantized:
 * the same integer tensors, and each float16 scale is the float32 scale rounded to float16.
 */
async function expectSameArithmetic(half: Model, opts: Record<string, unknown>): Promise<void> {
  const a = (await runPass(quantizeWeightsPass, half, opts)).model;
  const b = (await runPass(quantizeWeightsPass, decodedWeights(half), opts)).model;
  let codes = 0;
  let scales = 0;
  for (const [k, tb] of b.graph.initializers) {
    if (half.graph.initializers.has(k)) continue;
    const ta = a.graph.initializers.get(k);
    expect(ta, k).toBeDefined();
    if (INTEGER_TYPES.has(tb.dtype)) {
      expect(ta!.dtype, k).toBe(tb.dtype);
      expect(Array.from(ta!.dataSync() as ArrayLike<number>), k).toEqual(Array.from(tb.dataSync() as ArrayLike<number>));
      codes++;
    } else if (tb.dtype === 'float32') {
      expect(ta!.dtype, k).toBe('float16');
      expect(Array.from(ta!.dataSync() as Uint16Array), k).toEqual(Array.from(tb.dataSync() as Float32Array, float32ToFloat16Bits));
      scales++;
    }
  }
  expect(codes).toBeGreaterThan(0);
  expect(scales).toBeGreaterThan(0);
}

describe('quantize-weights on a float16 model (MatMul, Gemm, Gather)', async () => {
  const half = await halfModel(mixedModel());
  const feeds = mixedFeeds(16);
  const ref = await ortRunHalf(half, feeds);
  const out = half.graph.outputs[0]!.name;
  const cases: [string, Record<string, unknown>, number, Record<string, number>][] = [
    ['int8 per-channel qdq', { bits: 8, granularity: 'per-channel' }, 0.02, { DequantizeLinear: 4 }],
    ['int4 block-32 qdq', { bits: 4, granularity: 'block', blockSize: 32 }, 0.15, { DequantizeLinear: 4 }],
    ['int4 block-32 matmulnbits', { bits: 4, format: 'matmulnbits', blockSize: 32 }, 0.15, { MatMulNBits: 3, GatherBlockQuantized: 1 }],
    ['int4 default-block asym matmulnbits', { bits: 4, format: 'matmulnbits', symmetric: false }, 0.2, { MatMulNBits: 3, GatherBlockQuantized: 1 }],
    ['int8 block-32 matmulnbits', { bits: 8, format: 'matmulnbits', blockSize: 32 }, 0.02, { MatMulNBits: 3, DequantizeLinear: 1 }],
  ];
  it.each(cases)('%s: float16 scales, float16 io, close to the fp16 model, same codes as from float32', async (_name, opts, tol, forms) => {
    const { model: q, report } = await runPass(quantizeWeightsPass, half, opts);
    expect(report.changed).toBe(true);
    expect(report.stats!.float16Weights).toBe(4);
    expect(report.summary).toContain('4 float16 weights quantized with float16 scales');
    expect(report.details!.forms).toEqual(forms);
    expect(ioTypes(q)).toEqual(ioTypes(half));
    const r = await ortRunHalf(q, feeds);
    expect(r.types[out]).toBe('float16');
    expect(relError(ref.outputs[out]!, r.outputs[out]!)).toBeLessThan(tol);
    expect(report.stats!.bytesAfter).toBeLessThan(report.stats!.bytesBefore!);
    // no float32 initializer appears: the scales are float16
    expect([...q.graph.initializers.values()].filter((t) => t.dtype === 'float32')).toEqual([]);
    await expectSameArithmetic(half, opts);
  });

  it('quantize-hqq takes the float16 weights too (MatMulNBits, GatherBlockQuantized)', async () => {
    const { model: q, report } = await runPass(quantizeHqqPass, half, { format: 'matmulnbits', blockSize: 32, ops: ['MatMul', 'Gemm', 'Gather'] });
    expect(report.stats!.float16Weights).toBe(4);
    expect(report.details!.forms).toEqual({ MatMulNBits: 3, GatherBlockQuantized: 1 });
    const r = await ortRunHalf(q, feeds);
    expect(r.types[out]).toBe('float16');
    expect(relError(ref.outputs[out]!, r.outputs[out]!)).toBeLessThan(0.15);
  });

  it('a mixed model (Gemm weights float32 between Casts, the rest float16): both kinds quantized', async () => {
    const mixed = await halfModel(mixedModel(), ['Gemm']);
    const types = ['w1', 'emb', 'w2', 'w3'].map((k) => mixed.graph.initializers.get(k)!.dtype);
    expect(types).toEqual(['float16', 'float16', 'float32', 'float32']);
    const base = await ortRunHalf(mixed, feeds);
    for (const opts of [{ bits: 4, blockSize: 32 }, { bits: 4, blockSize: 32, format: 'matmulnbits' }] as const) {
      const { model: q, report } = await runPass(quantizeWeightsPass, mixed, opts);
      expect(report.stats!.weights).toBe(4);
      expect(report.stats!.float16Weights).toBe(2);
      expect(report.stats!.layers).toBe(4);
      const r = await ortRunHalf(q, feeds);
      expect(relError(base.outputs[out]!, r.outputs[out]!)).toBeLessThan(0.15);
    }
  });

  it('other techniques keep refusing float16 weights, saying which ones take them', async () => {
    const { report } = await runPass('quantize-dynamic', half, {});
    expect(report.changed).toBe(false);
    expect(report.summary).toMatch(/4 float16 weight \(only float32 weights are quantized; quantize-weights and quantize-hqq take float16 weights\)/);
  });
});

describe('quantize-weights on a float16 CNN', async () => {
  const half = await halfModel(resnetCnn());
  const feeds = { x: imageInput(4, 5) };
  const ref = (await ortRunHalf(half, feeds)).outputs[half.graph.outputs[0]!.name]!;

  it.each([
    ['int8 per-channel', { bits: 8, granularity: 'per-channel' }, 0.999],
    ['int4 (small kernels int8)', { bits: 4 }, 0.99],
  ] as const)('%s: Conv weights as float16 DequantizeLinear (opset 17 -> 19 / 21), close to the fp16 model', async (_name, opts, bar) => {
    const { model: q, report } = await runPass(quantizeWeightsPass, half, opts);
    expect(report.details!.opset).toMatchObject({ from: 17, upgraded: true });
    expect(report.stats!.float16Weights).toBe(7);
    const r = await ortRunHalf(q, feeds);
    expect(Object.values(r.types)).toEqual(['float16']);
    expect(cosine(ref, Object.values(r.outputs)[0]!)).toBeGreaterThan(bar);
  });

  it('below opset 19 (no float16 DequantizeLinear): int8 + Cast to float16 + Mul by float16 scales', async () => {
    const m = await halfModel(resnetCnn());
    const sites = findModelWeightSites(m, ['Conv', 'Gemm'], {}, { floatTypes: ['float32', 'float16'] });
    const entries = [];
    for (const site of sites) entries.push({ site, q: quantizeRtn(canonical(site, await siteValues(site)), site.rows, site.cols, { bits: 8, symmetric: true, granularity: 'per-channel', blockSize: 0 }) });
    const r = await writeQuantizedWeights(m, entries, 'qdq');
    expect(r.forms).toEqual({ 'Cast+Mul': 7 });
    expect(r.float16Weights).toBe(7);
    expect(r.warnings.join('\n')).toContain('float16 DequantizeLinear needs opset 19, model has 17');
    const casts = m.graph.nodes.filter((n) => n.opType === 'Cast' && n.name.endsWith('_Cast'));
    expect(casts.map((n) => n.attributes.get('to'))).toEqual(casts.map(() => ({ type: 'int', value: 10 })));
    const out = await ortRunHalf(m, feeds);
    expect(cosine(ref, Object.values(out.outputs)[0]!)).toBeGreaterThan(0.999);
  });
});

describe('quantize-weights on a float16 torch transformer encoder (embedding table, opset 14)', async () => {
  const fp32 = await frontEnd(torchTransformerEncoder({ vocab: 1024, layers: 2, dModel: 256, ffn: 1024 }));
  const half = await halfModel(fp32);
  const ids = { data: BigInt64Array.from({ length: 2 * 8 }, (_, i) => BigInt((i * 37) % 1024)), dims: [2, 8] };
  const feeds = { input_ids: ids };
  const ref = await ortRunHalf(half, feeds);
  const name = half.graph.outputs[0]!.name;
  const halfBytes = modelBytes(half);

  it.each([
    // int4: 4-bit codes + one float16 scale per 128 values (3.88x on the weights); LayerNorms
    // and biases stay float16
    ['int4 matmulnbits', { format: 'matmulnbits' }, 0.95, 3.5],
    ['int4 qdq', {}, 0.95, 3.5],
    ['int8 per-channel qdq', { bits: 8, granularity: 'per-channel' }, 0.995, 1.9],
  ] as const)('%s: smaller than the fp16 file by the expected factor, close to it, float16 io', async (_name, opts, bar, minRatio) => {
    const { model: q, report } = await runPass(quantizeWeightsPass, half, opts);
    expect(report.stats!.float16Weights).toBe(report.stats!.weights);
    // the token and position tables are gathered from their 4-bit blocks
    if ('format' in opts) expect(report.details!.forms).toEqual({ MatMulNBits: 12, GatherBlockQuantized: 2 });
    expect(ioTypes(q)).toEqual(ioTypes(half));
    const r = await ortRunHalf(q, feeds);
    expect(r.types[name]).toBe('float16');
    const cos = cosine(ref.outputs[name]!, r.outputs[name]!);
    const ratio = halfBytes / modelBytes(q);
    console.log(_name, 'cosine', cos.toFixed(5), 'fp16 bytes', halfBytes, '->', modelBytes(q), `${ratio.toFixed(2)}x`);
    expect(cos).toBeGreaterThanOrEqual(bar);
    expect(ratio).toBeGreaterThanOrEqual(minRatio);
  });
});

describe('a float16 decoder LM whose token table is tied with the head', async () => {
  const lm = buildDecoderLm({ seed: 4, layers: 1, dModel: 64, heads: 4, vocab: 96, maxPositions: 16 });
  const half = await halfModel(lm.model);
  const feeds = decoderFeeds(lm.config, [[1, 5, 9, 33, 70, 2], [3, 3, 90, 41, 7, 0]]);
  const ref = (await ortRunHalf(half, feeds)).outputs.logits!;

  const ref32 = (await ortRun(lm.model, feeds)).logits!;

  it.each(['shared', 'int8', 'float'] as const)('tiedHead %s: float16 scales for the gather and the head, float16 logits as close to the fp16 model as the float32 path to float32', async (tiedHead) => {
    const opts = { bits: 4, blockSize: 32, format: 'matmulnbits', tiedHead } as const;
    const { model: q, report } = await runPass(quantizeWeightsPass, half, opts);
    expect((report.details!.tied as { mode: string }[]).map((t) => t.mode)).toEqual([tiedHead]);
    expect(report.stats!.float16Weights).toBe(report.stats!.weights);
    expect([...q.graph.initializers.values()].filter((t) => t.dtype === 'float32')).toEqual([]);
    const r = await ortRunHalf(q, feeds);
    expect(r.types.logits).toBe('float16');
    // the 4-bit head's error on the float32 model: 0.163 shared, 0.138 int8 / float (measured)
    const err32 = relError(ref32, (await ortRun((await runPass(quantizeWeightsPass, lm.model, opts)).model, feeds)).logits!);
    expect(relError(ref, r.outputs.logits!)).toBeLessThan(1.1 * err32);
  });
});
