import type { KernelConfig } from '../../../backend.js';
import { REDUCE_KERNEL_NAMES, type ReduceKernelName } from '../../../kernel_names.js';
import type { DType } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, type WgslScalar, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, offsetFn, roundF16 } from '../wgsl.js';

type T = WgslScalar;

/**
 * WGSL pieces of a reduction as an associative fold: `map` turns an element into an
 * accumulator, `combine` merges two accumulators (so large reductions can run as a workgroup
 * tree), `finish` turns the accumulator and the reduced count `n` (i32) into the result.
 */
export interface GpuReducer {
  /** Accumulator type: the input's storage type, or vec2<f32> (used by LogSumExp). */
  readonly acc?: 'same' | 'vec2f';
  readonly init: (t: T) => string;
  readonly map?: (v: string, t: T) => string;
  readonly combine: (a: string, b: string, t: T) => string;
  readonly finish?: (acc: string, n: string, t: T) => string;
  readonly outDtype?: DType;
  /** Extra WGSL functions. */
  readonly preamble?: string;
}

/** Reduced sizes from this on use the two-stage workgroup tree. */
export const TREE_MIN = 512;
const TREE_WG = 256;
const CHUNK = TREE_WG * 16;

// WGSL rejects infinite constant expressions: build them at run time from a var
const NEG_INF = 'infF32(true)';
const POS_INF = 'infF32(false)';
const INF_FN = `
fn infF32(negative: bool) -> f32 {
  var bits = 0x7f800000u;
  if (negative) { bits = 0xff800000u; }
  return bitcast<f32>(bits);
}`;

function accType(r: GpuReducer, t: T): string {
  return r.acc === 'vec2f' ? 'vec2<f32>' : t;
}

function resultExpr(r: GpuReducer, acc: string, n: string, t: T, dtype: DType): string {
  const ot = wgslType(dtype);
  let e = r.finish ? r.finish(acc, n, t) : acc;
  if (ot !== t || r.acc === 'vec2f') e = `${ot}(${e})`;
  if (dtype === 'float16') e = roundF16(e);
  return e;
}

interface Split {
  keptShape: number[];
  keptStrides: number[];
  redShape: number[];
  redStrides: number[];
  outShape: number[];
}

function splitFor(x: GpuTensor, axes: readonly number[], keepDims: boolean): Split {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  x.shape.forEach((d, i) => {
    if (axes.includes(i)) {
      redShape.push(d);
      redStrides.push(x.strides[i]!);
    } else {
      keptShape.push(d);
      keptStrides.push(x.strides[i]!);
    }
  });
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptShape;
  return { keptShape, keptStrides, redShape, redStrides, outShape };
}

/** Run reduction `r` of `x` over `axes` (sorted, normalized) on the GPU. */
export function runReduce(name: string, r: GpuReducer, x: GpuTensor, axes: readonly number[], keepDims: boolean, backend: WebGpuBackend): GpuTensor {
  const s = splitFor(x, axes, keepDims);
  const dtype = r.outDtype ?? x.dtype;
  const outSize = sizeOf(s.outShape);
  const n = sizeOf(s.redShape);
  const t = wgslType(x.dtype);
  const A = accType(r, t);
  const map = (v: string): string => (r.map ? r.map(v, t) : v);
  const u = new Uniforms();
  u.add(outSize, n);
  const chunksAt = u.add(1, CHUNK, n);
  const kShape = u.add(...s.keptShape);
  const kStr = u.add(...s.keptStrides);
  const off = u.add(x.offset);
  const rShape = u.add(...s.redShape);
  const rStr = u.add(...s.redStrides);
  const zero = u.add(0);
  const offsets = `${offsetFn('baseOf', s.keptShape.length, kShape, kStr, off)}
${offsetFn('redOf', s.redShape.length, rShape, rStr, zero)}`;
  const keyBase = `${name}:${x.dtype}:${dtype}:${s.keptShape.length}:${s.redShape.length}`;
  if (n < TREE_MIN) {
    return backend.runProgram({
      key: `${keyBase}:loop`,
      source: () => `${INF_FN}${r.preamble ?? ''}
${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype }])}
${offsets}
${mainLinear('u[0]', `  let base = baseOf(idx);
  let n = u[1];
  var acc: ${A} = ${r.init(t)};
  for (var k = 0; k < n; k++) {
    acc = ${r.combine('acc', map(`X[base + redOf(k)]`), t)};
  }
  Y[idx] = ${resultExpr(r, 'acc', 'n', t, dtype)};`)}`,
      inputs: [x],
      outputs: [{ dtype, shape: s.outShape }],
      uniforms: u.values,
      dispatch: dispatch1D(outSize),
    })[0]!;
  }
  // two-stage tree: stage 1 folds chunks of CHUNK elements per workgroup into partials
  const chunks = Math.ceil(n / CHUNK);
  u.values[chunksAt] = chunks;
  const width = r.acc === 'vec2f' ? 2 : 1;
  const pDtype: DType = t === 'f32' ? 'float32' : 'int32';
  const final = chunks === 1;
  const store = (acc: string): string =>
    final
      ? `Y[o] = ${resultExpr(r, acc, 'u[1]', t, dtype)};`
      : width === 2
        ? `Y[2 * g] = ${acc}.x; Y[2 * g + 1] = ${acc}.y;`
        : `Y[g] = ${acc};`;
  const stage1 = backend.runProgram({
    key: `${keyBase}:tree1:${final}`,
    source: () => `${INF_FN}${r.preamble ?? ''}
${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: final ? dtype : pDtype }])}
${offsets}
${treeMain(A, r.init(t), (a, b) => r.combine(a, b, t), `  let o = g / u[2];
  let c = g % u[2];
  let base = baseOf(o);
  let start = c * u[3];
  let end = min(u[1], start + u[3]);
  for (var k = start + i32(lid); k < end; k += ${TREE_WG}) {
    acc = ${r.combine('acc', map('X[base + redOf(k)]'), t)};
  }`, store)}`,
    inputs: [x],
    outputs: [{ dtype: final ? dtype : pDtype, shape: final ? s.outShape : [outSize * chunks * width] }],
    uniforms: u.values,
    dispatch: dispatch1D(outSize * chunks, 1),
  })[0]!;
  if (final) return stage1;
  // stage 2: one workgroup per output folds its `chunks` partials and finishes
  const u2 = new Uniforms();
  u2.add(outSize, n, 1, chunks);
  const load = width === 2 ? '(vec2<f32>(P[2 * (o * u[3] + k)], P[2 * (o * u[3] + k) + 1]))' : 'P[o * u[3] + k]';
  const out = backend.runProgram({
    key: `${keyBase}:tree2`,
    source: () => `${INF_FN}${r.preamble ?? ''}
${declareBindings([{ name: 'P', dtype: pDtype }], [{ name: 'Y', dtype }])}
${treeMain(A, r.init(t), (a, b) => r.combine(a, b, t), `  let o = g;
  for (var k = i32(lid); k < u[3]; k += ${TREE_WG}) {
    acc = ${r.combine('acc', load, t)};
  }`, (acc) => `Y[o] = ${resultExpr(r, acc, 'u[1]', t, dtype)};`)}`,
    inputs: [stage1],
    outputs: [{ dtype, shape: s.outShape }],
    uniforms: u2.values,
    dispatch: dispatch1D(outSize, 1),
  })[0]!;
  backend.release(stage1.handle);
  return out;
}

/** A workgroup-per-group tree fold: `body` accumulates into `acc`; lane 0 runs `store(sh[0])`. */
function treeMain(A: string, init: string, combine: (a: string, b: string) => string, body: string, store: (acc: string) => string): string {
  return `
var<workgroup> sh: array<${A}, ${TREE_WG}>;
@compute @workgroup_size(${TREE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = i32(wid.x + wid.y * nwg.x);
  if (g >= u[0] * u[2]) { return; }
  var acc: ${A} = ${init};
${body}
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${TREE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = ${combine('sh[lid]', 'sh[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    ${store('sh[0]')}
  }
}`;
}

/** A reduction kernel over `attrs.axes` (normalized, sorted) with `attrs.keepDims`; any strides. */
export function makeReduceKernel(name: ReduceKernelName, r: GpuReducer): KernelConfig<WebGpuBackend, ReduceKernelName> {
  return {
    name,
    backend: 'webgpu',
    strided: true,
    run(inputs, attrs, backend) {
      return [runReduce(name, r, inputs[0] as GpuTensor, attrs.axes, attrs.keepDims, backend)];
    },
  };
}

const zeroOf = (t: T): string => (t === 'f32' ? '0.0' : '0');
const add = (a: string, b: string): string => `(${a} + ${b})`;
const LSE = `
fn lseComb(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  if (m == ${NEG_INF}) { return a; }
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}`;

/** The reducers, by kernel name (shared with DynamicQuantizeLinear). */
export const gpuReducers: { readonly [N in ReduceKernelName]: GpuReducer } = {
  ReduceSum: { init: zeroOf, combine: add },
  ReduceMean: { init: zeroOf, combine: add, finish: (a, n, t) => (t === 'f32' ? `${a} / f32(${n})` : `${a} / ${n}`) },
  ReduceMax: { init: (t) => (t === 'f32' ? NEG_INF : '-2147483647 - 1'), combine: (a, b) => `max(${a}, ${b})` },
  ReduceMin: { init: (t) => (t === 'f32' ? POS_INF : '2147483647'), combine: (a, b) => `min(${a}, ${b})` },
  ReduceProd: { init: (t) => (t === 'f32' ? '1.0' : '1'), combine: (a, b) => `(${a} * ${b})` },
  ReduceL1: { init: zeroOf, map: (v) => `abs(${v})`, combine: add },
  ReduceL2: { init: zeroOf, map: (v) => `(${v} * ${v})`, combine: add, finish: (a, _n, t) => (t === 'f32' ? `sqrt(${a})` : `i32(sqrt(f32(${a})))`) },
  ReduceSumSquare: { init: zeroOf, map: (v) => `(${v} * ${v})`, combine: add },
  ReduceLogSumExp: {
    acc: 'vec2f',
    init: () => `vec2<f32>(${NEG_INF}, 0.0)`,
    map: (v) => `vec2<f32>(f32(${v}), 1.0)`,
    combine: (a, b) => `lseComb(${a}, ${b})`,
    finish: (a) => `(${a}.x + log(${a}.y))`,
    preamble: LSE,
  },
};

/** All reduction WGSL kernels (ReduceSum is used by core; the rest by the indexing family). */
export const reduceWebGpuKernels: KernelConfig<WebGpuBackend, ReduceKernelName>[] = REDUCE_KERNEL_NAMES.map((n) => makeReduceKernel(n, gpuReducers[n]));
