import { expect } from 'vitest';
import { Rng, type Tensor } from '@whittle/tensor/node';

/** A float64 reference array with its shape. */
export interface Ref {
  shape: number[];
  data: Float64Array;
}

/** Seeded normal data, in float32 precision (so the reference sees exactly what the kernel sees). */
export function randomData(n: number, seed: number, scale = 1): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rng.normal() * scale);
  return out;
}

/** Assert a tensor matches a float64 reference within rtol/atol, reporting the worst element. */
export async function expectClose(t: Tensor, ref: ArrayLike<number>, refShape: readonly number[], rtol = 1e-4, atol = 1e-5): Promise<void> {
  expect([...t.shape]).toEqual([...refShape]);
  const got = await t.toFloat64();
  expect(got.length).toBe(ref.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < got.length; i++) {
    const r = ref[i]!;
    const g = got[i]!;
    if (Number.isNaN(r) && Number.isNaN(g)) continue;
    if (r === g) continue;
    const err = Math.abs(g - r) - (atol + rtol * Math.abs(r));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${got[worst]}, expected ${ref[worst]} (rtol ${rtol}, atol ${atol}); ${t.toString()}`);
  }
}

/** Row-major index helpers for writing references. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Multi-index of linear index `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/**
 * Finite-difference gradient check: compares the analytic gradient of `sum(f(inputs) * w)` (w a
 * fixed random weighting) with central differences in float64 over the float32 inputs.
 * `f` must build its result from the given tensors with the tensor ops.
 */
export async function checkGradients(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { eps?: number; rtol?: number; atol?: number; seed?: number; maxChecks?: number } = {},
): Promise<void> {
  const { tensor, mul, sum } = await import('@whittle/tensor/node');
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 2e-2;
  const atol = opts.atol ?? 2e-3;
  const leaves = inputs.map((x) => x.detach().requireGrad(x.requiresGrad || x.dtype === 'float32'));
  const y0 = f(...leaves);
  const w = tensor(Array.from(randomData(y0.size, opts.seed ?? 7)), y0.shape, 'float32', { backend: y0.backend });
  const loss = sum(mul(y0, w));
  loss.backward();
  const weights = await w.toFloat64();
  const evalLoss = async (xs: Tensor[]): Promise<number> => {
    const y = await f(...xs).toFloat64();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * weights[i]!;
    return s;
  };
  for (let k = 0; k < leaves.length; k++) {
    const leaf = leaves[k]!;
    if (!leaf.requiresGrad) continue;
    expect(leaf.grad, `input ${k} got no gradient`).not.toBeNull();
    const analytic = await leaf.grad!.toFloat64();
    const base = Float32Array.from(await leaf.toFloat64());
    const n = base.length;
    const checks = Math.min(n, opts.maxChecks ?? 24);
    const rng = new Rng(opts.seed ?? 11);
    for (let c = 0; c < checks; c++) {
      const i = checks === n ? c : rng.int(n);
      const plus = base.slice();
      const minus = base.slice();
      plus[i] = base[i]! + eps;
      minus[i] = base[i]! - eps;
      const mk = (v: Float32Array): Tensor[] =>
        leaves.map((l, j) => (j === k ? tensor(v, l.shape, 'float32', { backend: l.backend }) : l.detach()));
      const num = ((await evalLoss(mk(plus))) - (await evalLoss(mk(minus)))) / (Math.fround(base[i]! + eps) - Math.fround(base[i]! - eps));
      const a = analytic[i]!;
      if (Math.abs(a - num) > atol + rtol * Math.max(Math.abs(a), Math.abs(num))) {
        expect.fail(`gradient of input ${k} at element ${i}: analytic ${a}, finite difference ${num}`);
      }
    }
  }
}

/** Round half to even, in float64 (the reference for ONNX's rounding in quantization and casts). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * `count` distinct, well separated float32 values (steps of 0.1) in a seeded random order: an
 * argmax stays put under finite differences, so max-pooling gradients can be checked numerically.
 */
export function distinctValues(count: number, seed: number): Float64Array {
  const r = randomData(count, seed);
  const order = [...r.keys()].sort((a, b) => r[a]! - r[b]!);
  const out = new Float64Array(count);
  order.forEach((k, rank) => (out[k] = Math.fround((rank - count / 2) * 0.1)));
  return out;
}
