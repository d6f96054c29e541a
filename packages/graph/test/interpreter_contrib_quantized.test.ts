/**
 * onnxruntime's quantized com.microsoft ops against onnxruntime-node on cpu and webgpu:
 * GatherBlockQuantized (uint8 with 2-, 4- and 8-bit codes, int4/uint4 containers, zero points given
 * and default, the 2-D and 3-D layouts Whittle writes, other gather and quantize axes),
 * MatMulIntegerToFloat, DynamicQuantizeMatMul, QGemm (float and quantized output, per-column
 * scales, int32 bias, transposes, alpha) and the QOperator family (QLinearAdd/Mul/Sigmoid/
 * LeakyRelu/GlobalAveragePool/AveragePool/Concat/Softmax), with rounding ties and saturation;
 * the inferred output shapes and element types equal onnxruntime's.
 */
import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { type Tensor, cast, tensor } from '@whittle/tensor';
import { inferShapes } from '../src/analysis/shape/infer.js';
import { summarize } from '../src/analysis/summarize.js';
import type { Model } from '../src/ir/types.js';
import { runModel } from '../src/interpreter/run.js';
import type { AttrInput } from '../src/builder/graph_builder.js';
import { expectMatchesOrt, oneNode, randInt, randn, runOrt, cpu } from './interpreter_harness.js';

const MS = 'com.microsoft';

/** Whittle's inferred output shape and type equal what onnxruntime returns. */
async function expectShapeOfOrt(model: Model, feeds: Record<string, Tensor>): Promise<void> {
  const want = await runOrt(model, feeds);
  const out = inferShapes(model).graph.outputs[0]!.type;
  expect(out?.kind === 'tensor' ? out.shape : undefined, model.graph.nodes[0]!.opType).toEqual(want[0]!.shape);
}

interface Case {
  name: string;
  model: Model;
  feeds: Record<string, Tensor>;
  /** Largest difference allowed, in output units (0: exact). */
  atol: number;
}

const f32 = (v: number): Tensor => cpu([v], [], 'float32');
const q = (v: number, dtype: 'uint8' | 'int8' = 'uint8'): Tensor => cpu([v], [], dtype);

/** Pack 4-bit codes two a byte, low nibble first (rows of `rowLen` codes, each row padded to whole bytes). */
function pack4(codes: number[], rowLen: number): Uint8Array {
  const rowBytes = Math.ceil(rowLen / 2);
  const rows = codes.length / rowLen;
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) for (let k = 0; k < rowLen; k++) out[r * rowBytes + (k >> 1)] = out[r * rowBytes + (k >> 1)]! | ((codes[r * rowLen + k]! & 15) << ((k & 1) * 4));
  return out;
}

/** Pack 2-bit codes four a byte, lowest bits first (rows of `rowLen` codes, padded to whole bytes). */
function pack2(codes: number[], rowLen: number): Uint8Array {
  const rowBytes = Math.ceil(rowLen / 4);
  const rows = codes.length / rowLen;
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) for (let k = 0; k < rowLen; k++) out[r * rowBytes + (k >> 2)] = out[r * rowBytes + (k >> 2)]! | ((codes[r * rowLen + k]! & 3) << ((k & 3) * 2));
  return out;
}

function ints(n: number, seed: number, lo: number, hi: number): number[] {
  return Array.from(randInt([n], seed, lo, hi, 'int32').dataSync() as Int32Array);
}

function gbq(name: string, data: Tensor, scales: Tensor, zp: Tensor | undefined, indices: Tensor, attrs: Record<string, AttrInput>): Case {
  const inits: Record<string, Tensor> = { data, scales, ...(zp ? { zp } : {}) };
  const model = oneNode({ op: 'GatherBlockQuantized', domain: MS, feeds: { indices }, inputs: ['init:data', 'indices', 'init:scales', ...(zp ? ['init:zp'] : [])], inits, attrs, outputs: [scales.dtype === 'float16' ? 'float16' : 'float32'] });
  return { name: `GatherBlockQuantized ${name}`, model, feeds: { indices }, atol: 0 };
}

function gatherCases(): Case[] {
  const V = 6;
  const D = 64;
  const bs = 32;
  const nb = D / bs;
  const codes = ints(V * D, 1, 0, 15);
  const scales = randn([V, nb], 2, 0.1);
  const idx = cpu([5, 0, 3, 3, -1, 2], [2, 3], 'int64');
  const zp4 = pack4(ints(V * nb, 3, 0, 15), nb);
  const out: Case[] = [
    gbq('uint8 4-bit [V, D/2], zero points', tensor(pack4(codes, D), [V, D / 2], 'uint8'), scales, tensor(zp4, [V, Math.ceil(nb / 2)], 'uint8'), idx, { gather_axis: 0, quantize_axis: 1, block_size: bs, bits: 4 }),
    // float16 scales (Transformers.js q4f16): the output is float16
    gbq('uint8 4-bit, float16 scales', tensor(pack4(codes, D), [V, D / 2], 'uint8'), cast(scales, 'float16'), tensor(zp4, [V, Math.ceil(nb / 2)], 'uint8'), idx, { quantize_axis: 1, block_size: bs, bits: 4 }),
    gbq('uint8 4-bit, default zero point 8, int32 indices', tensor(pack4(codes, D), [V, D / 2], 'uint8'), scales, undefined, cpu([1, 4, 0], [3], 'int32'), { quantize_axis: 1, block_size: bs, bits: 4 }),
    // three blocks a row: the zero points' last byte holds one nibble
    gbq('uint8 4-bit, odd block count', tensor(pack4(ints(V * 48, 4, 0, 15), 48), [V, 24], 'uint8'), randn([V, 3], 5, 0.1), tensor(pack4(ints(V * 3, 6, 0, 15), 3), [V, 2], 'uint8'), idx, { quantize_axis: 1, block_size: 16, bits: 4 }),
    // the layout of requantized int8 tables: [V, blocks, block/2], quantize_axis 2
    gbq('uint8 4-bit [V, blocks, bs/2]', tensor(pack4(codes, D), [V, nb, bs / 2], 'uint8'), tensor(scales.dataSync() as Float32Array, [V, nb, 1], 'float32'), tensor(pack4(ints(V * nb, 7, 0, 15), 1), [V, nb, 1], 'uint8'), idx, { quantize_axis: 2, block_size: bs, bits: 4 }),
    gbq('uint8 2-bit, zero points', tensor(pack2(ints(V * D, 17, 0, 3), D), [V, D / 4], 'uint8'), scales, tensor(pack2(ints(V * nb, 18, 0, 3), nb), [V, 1], 'uint8'), idx, { quantize_axis: 1, block_size: bs, bits: 2 }),
    gbq('uint8 2-bit, default zero point 2', tensor(pack2(ints(V * D, 19, 0, 3), D), [V, D / 4], 'uint8'), scales, undefined, idx, { quantize_axis: 1, block_size: bs, bits: 2 }),
    gbq('uint8 8-bit, zero points', tensor(Uint8Array.from(ints(V * D, 8, 0, 255)), [V, D], 'uint8'), scales, tensor(Uint8Array.from(ints(V * nb, 9, 0, 255)), [V, nb], 'uint8'), idx, { quantize_axis: 1, block_size: bs, bits: 8 }),
    gbq('uint8 8-bit, default zero point 128', tensor(Uint8Array.from(ints(V * D, 10, 0, 255)), [V, D], 'uint8'), scales, undefined, idx, { quantize_axis: 1, block_size: bs, bits: 8 }),
    gbq('int4, zero points', tensor(ints(V * D, 11, -8, 7), [V, D], 'int4'), scales, tensor(ints(V * nb, 12, -8, 7), [V, nb], 'int4'), idx, { quantize_axis: 1, block_size: bs }),
    gbq('uint4, no zero points', tensor(ints(V * D, 13, 0, 15), [V, D], 'uint4'), scales, undefined, idx, { quantize_axis: 1, block_size: bs }),
    // quantized along the gathered axis's neighbour: data [D, V], gather axis 1, quantize axis 0
    gbq('int4 gather_axis 1, quantize_axis 0', tensor(ints(D * V, 14, -8, 7), [D, V], 'int4'), randn([nb, V], 15, 0.1), tensor(ints(nb * V, 16, -8, 7), [nb, V], 'int4'), cpu([2, 5], [2], 'int64'), { gather_axis: 1, quantize_axis: 0, block_size: bs }),
  ];
  return out;
}

function matmulCases(): Case[] {
  const M = 5;
  const K = 24;
  const N = 7;
  const a8 = randInt([2, M, K], 20, 0, 255, 'uint8');
  const out: Case[] = [];
  for (const [bType, perColumn] of [['int8', false], ['uint8', false], ['int8', true]] as const) {
    const b = randInt([K, N], 21, bType === 'int8' ? -128 : 0, bType === 'int8' ? 127 : 255, bType);
    const bS = perColumn ? randn([N], 22, 0.01) : f32(0.0123);
    const bZp = perColumn ? randInt([N], 23, -3, 3, bType) : q(bType === 'int8' ? 2 : 130, bType);
    const inits = { b, bS: tensor(Float32Array.from(bS.dataSync() as Float32Array, Math.abs), [...bS.shape], 'float32'), bZp, aS: f32(0.037), aZp: q(121), bias: randn([N], 24) };
    const label = `${bType} B${perColumn ? ', per-column scales' : ''}`;
    const feedsA = { a: a8 };
    out.push({
      name: `MatMulIntegerToFloat ${label}`,
      model: oneNode({ op: 'MatMulIntegerToFloat', domain: MS, feeds: feedsA, inputs: ['a', 'init:b', 'init:aS', 'init:bS', 'init:aZp', 'init:bZp', 'init:bias'], inits, outputs: ['float32'] }),
      feeds: feedsA,
      atol: 1e-4,
    });
    const feedsF = { a: randn([2, M, K], 25) };
    out.push({
      name: `DynamicQuantizeMatMul ${label}`,
      model: oneNode({ op: 'DynamicQuantizeMatMul', domain: MS, feeds: feedsF, inputs: ['a', 'init:b', 'init:bS', 'init:bZp', 'init:bias'], inits, outputs: ['float32'] }),
      feeds: feedsF,
      atol: 1e-4,
    });
  }
  const feedsNoZp = { a: a8 };
  out.push({
    name: 'MatMulIntegerToFloat without zero points or bias',
    model: oneNode({ op: 'MatMulIntegerToFloat', domain: MS, feeds: feedsNoZp, inputs: ['a', 'init:b', 'init:aS', 'init:bS'], inits: { b: randInt([K, N], 26, -128, 127, 'int8'), aS: f32(0.02), bS: f32(0.03) }, outputs: ['float32'] }),
    feeds: feedsNoZp,
    atol: 1e-4,
  });
  // QGemm: A [M, K] (or [K, M]), B [K, N] (or [N, K]), int32 C; float output, then quantized output
  for (const [transA, transB, alpha, yQuant, bPerColumn] of [[0, 0, 1, false, false], [1, 1, 0.5, false, true], [0, 1, 1, true, false], [1, 0, 2, true, true]] as const) {
    const a = randInt(transA ? [K, M] : [M, K], 30, 0, 255, 'uint8');
    const b = randInt(transB ? [N, K] : [K, N], 31, -128, 127, 'int8');
    const inits: Record<string, Tensor> = {
      aS: f32(0.021),
      aZp: q(127),
      b,
      bS: bPerColumn ? tensor(Float32Array.from({ length: N }, (_, i) => 0.004 + 0.001 * i), [N], 'float32') : f32(0.006),
      bZp: bPerColumn ? cpu(Array.from({ length: N }, () => 0), [N], 'int8') : q(0, 'int8'),
      c: randInt([N], 32, -2000, 2000, 'int32'),
      yS: f32(0.05),
      yZp: q(128),
    };
    const inputs = ['a', 'init:aS', 'init:aZp', 'init:b', 'init:bS', 'init:bZp', 'init:c', ...(yQuant ? ['init:yS', 'init:yZp'] : [])];
    const feeds = { a };
    out.push({
      name: `QGemm transA ${transA} transB ${transB} alpha ${alpha}${yQuant ? ', uint8 output' : ''}${bPerColumn ? ', per-column B' : ''}`,
      model: oneNode({ op: 'QGemm', domain: MS, feeds, inputs, inits, attrs: { transA, transB, alpha }, floatAttrs: ['alpha'], outputs: [yQuant ? 'uint8' : 'float32'] }),
      feeds,
      atol: yQuant ? 0 : 1e-4,
    });
  }
  return out;
}

/** QOperator cases; `dtype` uint8 or int8 (the range and zero points follow). */
function qlinearCases(dtype: 'uint8' | 'int8'): Case[] {
  const [lo, hi] = dtype === 'uint8' ? [0, 255] : [-128, 127];
  const zp = (v: number): Tensor => q(dtype === 'uint8' ? v : v - 128, dtype);
  const x = randInt([2, 3, 5, 4], 40, lo, hi, dtype);
  const y = randInt([3, 1, 4], 41, lo, hi, dtype);
  const out: Case[] = [];
  const unary = (op: string, attrs: Record<string, AttrInput>, floatAttrs: string[], sx: number, zx: number, sy: number, zy: number): Case => {
    const feeds = { x };
    return {
      name: `${op} ${dtype} ${JSON.stringify(attrs)} x(${sx},${zx}) y(${sy},${zy})`,
      model: oneNode({ op, domain: MS, feeds, inputs: ['x', 'init:sx', 'init:zx', 'init:sy', 'init:zy'], inits: { sx: f32(sx), zx: zp(zx), sy: f32(sy), zy: zp(zy) }, attrs, floatAttrs, outputs: [dtype] }),
      feeds,
      atol: 0,
    };
  };
  for (const op of ['QLinearAdd', 'QLinearMul']) {
    // the second scale set puts many results on .5 ties; the third saturates
    for (const [sa, za, sb, zb, sc, zc] of [[0.05, 130, 0.02, 120, 0.07, 125], [0.5, 128, 0.5, 128, 1, 128], [0.5, 128, 0.5, 128, 1, 127], [0.2, 100, 0.3, 160, 0.01, 128]]) {
      const feeds = { a: x, b: y };
      out.push({
        name: `${op} ${dtype} a(${sa},${za}) b(${sb},${zb}) c(${sc},${zc})`,
        model: oneNode({ op, domain: MS, feeds, inputs: ['a', 'init:sa', 'init:za', 'b', 'init:sb', 'init:zb', 'init:sc', 'init:zc'], inits: { sa: f32(sa!), za: zp(za!), sb: f32(sb!), zb: zp(zb!), sc: f32(sc!), zc: zp(zc!) }, outputs: [dtype] }),
        feeds,
        atol: 0,
      });
    }
  }
  {
    const feeds = { a: x };
    out.push({
      name: `QLinearAdd ${dtype} one-element B (ties, odd output zero point)`,
      model: oneNode({ op: 'QLinearAdd', domain: MS, feeds, inputs: ['a', 'init:sa', 'init:za', 'init:b', 'init:sb', 'init:zb', 'init:sc', 'init:zc'], inits: { sa: f32(0.5), za: zp(128), b: cpu([dtype === 'uint8' ? 131 : 3], [1], dtype), sb: f32(0.5), zb: zp(128), sc: f32(1), zc: zp(127) }, outputs: [dtype] }),
      feeds,
      atol: 0,
    });
  }
  // every code of the input type through the lookup tables onnxruntime builds
  const every = cpu(Array.from({ length: 256 }, (_, i) => lo + i), [1, 4, 64], dtype);
  for (const [op, attrs, sx, zx, sy, zy] of [['QLinearSigmoid', {}, 0.05, 128, 1 / 256, 0], ['QLinearSigmoid', {}, 0.03, 120, 1 / 255, 1], ['QLinearSigmoid', {}, 0.1, 140, 0.002, 7], ['QLinearLeakyRelu', { alpha: 0.1 }, 0.05, 128, 0.025, 101], ['QLinearLeakyRelu', { alpha: 0.3 }, 0.07, 119, 0.05, 128]] as const) {
    const feeds = { x: every };
    out.push({
      name: `${op} ${dtype} every code ${JSON.stringify(attrs)} x(${sx},${zx}) y(${sy.toFixed(5)},${zy})`,
      model: oneNode({ op, domain: MS, feeds, inputs: ['x', 'init:sx', 'init:zx', 'init:sy', 'init:zy'], inits: { sx: f32(sx), zx: zp(zx), sy: f32(sy), zy: zp(zy) }, attrs, floatAttrs: Object.keys(attrs), outputs: [dtype] }),
      feeds,
      atol: 0,
    });
  }
  out.push(unary('QLinearSigmoid', {}, [], 0.05, 128, 1 / 256, 0));
  out.push(unary('QLinearSigmoid', {}, [], 0.1, 100, 0.004, 10));
  out.push(unary('QLinearLeakyRelu', { alpha: 0.1 }, ['alpha'], 0.05, 128, 0.025, 100));
  out.push(unary('QLinearLeakyRelu', { alpha: 0.5 }, ['alpha'], 0.2, 128, 0.1, 128));
  // half-integer results (ties) with an odd and an even output zero point
  out.push(unary('QLinearLeakyRelu', { alpha: 0.5 }, ['alpha'], 0.2, 128, 0.4, 127));
  out.push(unary('QLinearLeakyRelu', { alpha: 0.25 }, ['alpha'], 0.1, 128, 0.2, 126));
  out.push(unary('QLinearGlobalAveragePool', {}, [], 0.5, 128, 0.5, 127));
  out.push(unary('QLinearGlobalAveragePool', {}, [], 0.05, 128, 0.01, 120));
  out.push(unary('QLinearGlobalAveragePool', { channels_last: 1 }, [], 0.05, 128, 0.03, 130));
  out.push(unary('QLinearAveragePool', { kernel_shape: [2, 2], strides: [1, 2], pads: [1, 0, 1, 0] }, [], 0.05, 128, 0.04, 128));
  out.push(unary('QLinearAveragePool', { kernel_shape: [3, 2], count_include_pad: 1, pads: [1, 1, 1, 1], strides: [2, 2] }, [], 0.05, 128, 0.04, 128));
  out.push(unary('QLinearAveragePool', { kernel_shape: [2, 2], ceil_mode: 1, strides: [2, 2] }, [], 0.05, 128, 0.05, 128));
  out.push(unary('QLinearAveragePool', { kernel_shape: [3, 3], ceil_mode: 1, count_include_pad: 1, strides: [2, 2], pads: [1, 0, 0, 1] }, [], 0.05, 100, 0.03, 131));
  out.push(unary('QLinearAveragePool', { kernel_shape: [2, 3], auto_pad: 'SAME_UPPER' }, [], 0.04, 128, 0.03, 127));
  out.push(unary('QLinearAveragePool', { kernel_shape: [2, 2], channels_last: 1 }, [], 0.05, 128, 0.04, 128));
  for (const [axis, opset] of [[-1, 13], [1, 13], [1, 12], [2, 12]] as const) out.push(unary('QLinearSoftmax', { axis, opset }, [], 0.08, 128, 1 / 256, dtype === 'uint8' ? 0 : -128 + 128));
  out.push(unary('QLinearSoftmax', { opset: 13 }, [], 0.3, 128, 1 / 200, 3));
  // QLinearConcat: one input already on the output grid (copied), two requantized
  const c1 = randInt([2, 3, 4], 50, lo, hi, dtype);
  const c2 = randInt([2, 1, 4], 51, lo, hi, dtype);
  const c3 = randInt([2, 2, 4], 52, lo, hi, dtype);
  const feeds = { c1, c2, c3 };
  out.push({
    name: `QLinearConcat ${dtype}`,
    model: oneNode({
      op: 'QLinearConcat',
      domain: MS,
      feeds,
      inputs: ['init:ys', 'init:yz', 'c1', 'init:s1', 'init:z1', 'c2', 'init:s2', 'init:z2', 'c3', 'init:ys', 'init:yz'],
      inits: { ys: f32(0.05), yz: zp(128), s1: f32(0.025), z1: zp(120), s2: f32(0.2), z2: zp(140) },
      attrs: { axis: 1 },
      outputs: [dtype],
    }),
    feeds,
    atol: 0,
  });
  return out;
}

const CASES = [...gatherCases(), ...matmulCases(), ...qlinearCases('uint8'), ...qlinearCases('int8')];

describeBackends('quantized com.microsoft ops vs onnxruntime', ({ backend }) => {
  for (const c of CASES) {
    it(c.name, async () => {
      await expectMatchesOrt(c.model, c.feeds, backend, 0, c.atol);
    });
  }
});

it('GatherBlockQuantized refuses an index outside the table, naming the node, as onnxruntime does', async () => {
  const c = gbq('', tensor(pack4(ints(4 * 32, 60, 0, 15), 32), [4, 16], 'uint8', { backend: 'cpu' }), randn([4, 1], 61, 0.1), undefined, cpu([0, 4], [2], 'int64'), { quantize_axis: 1, block_size: 32, bits: 4 });
  await expect(runOrt(c.model, c.feeds)).rejects.toThrow(/out of data bounds/);
  await expect(runModel(c.model, c.feeds, { backend: 'cpu' })).rejects.toThrow(/GatherBlockQuantized.*index 4 is outside \[-4, 3\]/);
});

it('inferred output shapes of the quantized ops equal onnxruntime', async () => {
  for (const c of CASES) await expectShapeOfOrt(c.model, c.feeds);
});

it('multiply-adds of the quantized matmuls: M·K·N per product, as the float MatMul / Gemm they stand for', () => {
  const byName = (prefix: string): Case[] => CASES.filter((c) => c.name.startsWith(prefix));
  // MatMulIntegerToFloat / DynamicQuantizeMatMul: A [2, 5, 24] @ B [24, 7]; QGemm: [5, 24] x [24, 7]
  for (const c of [...byName('MatMulIntegerToFloat'), ...byName('DynamicQuantizeMatMul')]) expect(summarize(c.model).macs, c.name).toBe(2 * 5 * 24 * 7);
  for (const c of byName('QGemm')) expect(summarize(c.model).macs, c.name).toBe(5 * 24 * 7);
});
