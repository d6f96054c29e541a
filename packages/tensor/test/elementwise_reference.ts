// float64 references and input builders shared by the elementwise tests (not a test file).
import { randomData, roundHalfEven, unravel } from '@whittle/testing';
import { sliceView, tensor, transpose, type Tensor } from '@whittle/tensor/node';

/** erf in float64: Maclaurin series for |x| < 2.5, Laplace continued fraction of erfc beyond. */
export function refErf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x;
    let s = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      s += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  }
  let k = a;
  for (let n = 120; n >= 1; n--) k = a + n / 2 / k;
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * k);
  return Math.sign(x) * (1 - erfc);
}

export const refSigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Round half to even, written independently of the kernel. */
export const refRound = roundHalfEven;

/** Elements of `view` below, in row-major order, from the base data. */
export interface StridedCase {
  view: Tensor;
  values: Float64Array;
}

/**
 * A strided (transposed + stepped slice) [4,3,2] view of a [3,5,7] tensor holding `base`
 * (105 values), and the view's elements in order for the reference.
 */
export function stridedView(base: Float64Array, dtype: 'float32' | 'float16' | 'int32' | 'int8' | 'uint8' = 'float32'): StridedCase {
  const t = tensor(Array.from(base), [3, 5, 7], dtype);
  const view = sliceView(transpose(t, [2, 0, 1]), [0, 0, 1], [7, 3, 5], [2, 1, 2]);
  const values = new Float64Array(24);
  for (let n = 0; n < 24; n++) {
    const [i, j, k] = unravel(n, [4, 3, 2]) as [number, number, number];
    values[n] = base[j * 35 + (1 + 2 * k) * 7 + 2 * i]!;
  }
  return { view, values };
}

/** Seeded data mapped through `f` (e.g. to keep inputs positive or away from kinks). */
export function data(n: number, seed: number, f: (x: number) => number = (x) => x): Float64Array {
  return randomData(n, seed).map((x) => Math.fround(f(x)));
}

/** Push |x - k| ≥ gap for every kink k (for gradient checks away from non-smooth points). */
export function awayFrom(kinks: readonly number[], gap = 0.08): (x: number) => number {
  return (x) => {
    for (const k of kinks) if (Math.abs(x - k) < gap) return x < k ? k - gap : k + gap;
    return x;
  };
}
