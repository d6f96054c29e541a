import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorInfo } from '../src/backend.js';
import { binaryStrided } from '../src/backends/cpu/kernels/binary.js';
import { type ArithOp, binaryF32 } from '../src/backends/cpu/kernels/binary_f32.js';
import { type Tensor, add, div, maximum, mean, minimum, mul, pow, setBackend, sub, sum, tensor, transpose } from '../src/index.js';
import { contiguousStrides } from '../src/shape.js';

beforeAll(async () => {
  await setBackend('cpu');
});

// The float32 Add/Sub/Mul/Div/Pow/Max/Min loops (per op and broadcast pattern) must give, element for
// element, the float32 rounding of the float64 result of the same operation as the generic
// broadcast loop: checked against that loop and against an index-by-index reference on random
// shapes and views (transposed, stepped, reversed, stride-0, offset), both broadcast directions,
// size-0 and size-1 dims, NaN/±Inf/±0 and subnormal values.

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-39, 3.4e38];

function values(n: number, rnd: () => number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rnd() < 0.1 ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]! : (rnd() - 0.5) * 8;
  return v;
}

/** A float32 view of `shape` with a random layout: permuted, stepped, reversed, stride-0 dims, offset. */
function randomView(shape: number[], rnd: () => number, plain = false): TensorInfo {
  const rank = shape.length;
  const order = [...Array(rank).keys()];
  if (!plain) order.sort(() => rnd() - 0.5);
  const strides = new Array<number>(rank).fill(0);
  let offset = plain ? 0 : Math.floor(rnd() * 3);
  let acc = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const d = order[k]!;
    const n = shape[d]!;
    if (!plain && n > 1 && rnd() < 0.1) continue; // an expanded (stride 0) dim
    const step = plain ? 1 : 1 + Math.floor(rnd() * 2);
    strides[d] = acc * step;
    acc *= Math.max(1, n * step + (plain ? 0 : Math.floor(rnd() * 2)));
  }
  for (let d = 0; d < rank; d++) {
    if (!plain && shape[d]! > 1 && rnd() < 0.2) {
      offset += (shape[d]! - 1) * strides[d]!;
      strides[d] = -strides[d]!;
    }
  }
  const storage = values(acc + offset + 2, rnd);
  return { dtype: 'float32', shape, strides, offset, handle: { backend: 'cpu', values: storage } } as TensorInfo;
}

const OPS: Record<ArithOp, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => Math.pow(a, b),
  Max: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  Min: (a, b) => (a < b || Number.isNaN(a) ? a : b),
};

/** out[i] = fround(a op b) by multi-index, with broadcasting, independent of any loop tricks. */
function reference(op: ArithOp, a: TensorInfo, b: TensorInfo): Float32Array {
  const rank = Math.max(a.shape.length, b.shape.length);
  const shape = Array.from({ length: rank }, (_, i) => {
    const da = a.shape[i - (rank - a.shape.length)] ?? 1;
    const db = b.shape[i - (rank - b.shape.length)] ?? 1;
    return da === 1 ? db : da;
  });
  const size = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(size);
  const at = (t: TensorInfo, idx: number[]): number => {
    let p = t.offset;
    const lead = rank - t.shape.length;
    t.shape.forEach((n, d) => (p += n === 1 ? 0 : idx[d + lead]! * t.strides[d]!));
    return (t.handle as unknown as { values: Float32Array }).values[p]!;
  };
  for (let i = 0; i < size; i++) {
    const idx: number[] = [];
    let r = i;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    out[i] = Math.fround(OPS[op](at(a, idx), at(b, idx)));
  }
  return out;
}

function expectSame(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

const CANONICAL: [number[], number[]][] = [
  [[6, 7], [6, 7]],
  [[3, 4, 5], [5]], // bias / LayerNorm weight
  [[5], [3, 4, 5]], // the other way round
  [[3, 4, 5], [3, 4, 1]], // per-row statistic
  [[3, 4, 1], [3, 4, 5]],
  [[2, 3, 4, 5], [3, 1, 1]], // NCHW op per-channel
  [[2, 3, 4, 5], [1, 3, 1, 1]],
  [[4, 5], []],
  [[], [4, 5]],
  [[], []],
  [[2, 1, 4, 5], [2, 3, 1, 5]], // both broadcast
  [[0, 5], [5]],
  [[3, 0], [3, 1]],
  [[1, 1], [1]],
];

function randomShapes(rnd: () => number): [number[], number[]] {
  const rank = Math.floor(rnd() * 5);
  const dims = [0, 1, 1, 2, 3, 5, 8];
  const out = Array.from({ length: rank }, () => dims[Math.floor(rnd() * dims.length)]!);
  if (rnd() < 0.7) out.forEach((d, i) => (out[i] = d === 0 ? 2 : d)); // mostly non-empty
  const side = (): number[] => {
    const s = out.map((d) => (rnd() < 0.35 ? 1 : d));
    return s.slice(Math.floor(rnd() * (s.length + 1) * 0.5));
  };
  return [side(), side()];
}

describe('cpu float32 Add/Sub/Mul/Div/Pow/Max/Min dedicated loops', () => {
  const cases: [number[], number[], boolean][] = [];
  for (const [a, b] of CANONICAL) cases.push([a, b, true], [a, b, false]);
  const rnd = lcg(12345);
  for (let k = 0; k < 300; k++) cases.push([...randomShapes(rnd), rnd() < 0.3]);

  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min'] as const) {
    it(`${op} equals the generic broadcast loop and the reference on ${cases.length} shape pairs`, () => {
      const r = lcg(op.length * 7 + op.charCodeAt(0));
      for (const [sa, sb, plain] of cases) {
        const a = randomView(sa, r, plain);
        const b = randomView(sb, r, plain);
        const what = `${op} [${sa}] (strides ${a.strides}, offset ${a.offset}) with [${sb}] (strides ${b.strides}, offset ${b.offset})`;
        const fast = binaryF32(op, a, b);
        const generic = binaryStrided(a, b, 'float32', OPS[op]);
        expect(fast.shape, what).toEqual(generic.shape);
        expectSame(fast.values, generic.values, `${what} vs generic`);
        expectSame(fast.values, reference(op, a, b), `${what} vs reference`);
      }
    });
  }

  it('the public ops run the same loops on cpu tensors and views', () => {
    const r = lcg(99);
    const x = tensor(values(2 * 3 * 4, r), [2, 3, 4]);
    const w = tensor(values(4, r), [4]);
    const xt = transpose(x, [0, 2, 1]); // a strided view [2, 4, 3]
    const col = tensor(values(2 * 4, r), [2, 4, 1]);
    // the reference reads the contiguous host copies
    const info = (t: Tensor): TensorInfo => ({ dtype: 'float32', shape: t.shape, strides: contiguousStrides(t.shape), offset: 0, handle: { backend: 'cpu', values: t.dataSync() } }) as TensorInfo;
    expect(xt.isContiguous).toBe(false);
    for (const [name, f] of [['Add', add], ['Sub', sub], ['Mul', mul], ['Div', div], ['Pow', pow], ['Max', maximum], ['Min', minimum]] as const) {
      expectSame(f(x, w).dataSync() as Float32Array, reference(name, info(x), info(w)), `${name} bias`);
      expectSame(f(col, xt).dataSync() as Float32Array, reference(name, info(col), info(xt)), `${name} column with a transposed view`);
    }
  });
});

describe('cpu ReduceSum/ReduceMean on contiguous float32 inputs', () => {
  /** float64 sums in row-major order of the reduced dims, rounded to float32. */
  function sumReference(v: Float32Array, shape: number[], axes: number[], meanOf: boolean): Float32Array {
    const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outSize = kept.reduce((p, d) => p * d, 1);
    const acc = new Float64Array(outSize);
    const n = axes.reduce((p, a) => p * shape[a]!, 1);
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < v.length; i++) {
      let o = 0;
      for (let d = 0; d < shape.length; d++) o = o * kept[d]! + (axes.includes(d) ? 0 : idx[d]!);
      acc[o] = acc[o]! + v[i]!;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
    return Float32Array.from(acc, (s) => (meanOf ? s / n : s));
  }

  it('equals float64 row-major sums for random shapes and axes (incl. size 0/1, NaN/Inf)', () => {
    const r = lcg(2024);
    const fixed: [number[], number[]][] = [
      [[64, 33], [0]], // bias gradient
      [[64, 33], [1]],
      [[2, 3, 4, 5], [0, 2, 3]], // NCHW to per-channel
      [[3, 4, 5], [1]], // a middle axis
      [[3, 4, 5, 2], [0, 2]],
      [[3, 1, 4], [0, 1]],
      [[0, 4], [0]],
      [[4, 0], [1]],
      [[], []],
    ];
    const cases = [...fixed];
    for (let k = 0; k < 200; k++) {
      const rank = Math.floor(r() * 5);
      const shape = Array.from({ length: rank }, () => [1, 2, 3, 5, 7][Math.floor(r() * 5)]!);
      const axes = shape.map((_, i) => i).filter(() => r() < 0.5);
      cases.push([shape, axes]);
    }
    for (const [shape, given] of cases) {
      const axes = given.length ? given : shape.map((_, i) => i); // no axes: all of them
      const v = values(shape.reduce((p, d) => p * d, 1), r);
      const x = tensor(v, shape);
      for (const meanOf of [false, true]) {
        const got = (meanOf ? mean(x, given, true) : sum(x, given, true)).dataSync() as Float32Array;
        expectSame(got, sumReference(v, shape, axes, meanOf), `${meanOf ? 'mean' : 'sum'} [${shape}] over [${axes}]`);
      }
    }
  });
});
