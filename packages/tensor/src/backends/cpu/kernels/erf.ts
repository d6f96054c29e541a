/**
 * erf / erfc shared by the cpu kernel (float64) and the WGSL kernel (float32, which imports
 * the coefficients so both backends evaluate the same formula).
 *
 * - |x| < 1: Maclaurin series of erf, 12 terms (truncation error < 1e-9).
 * - otherwise: erfc by the Chebyshev-fitted form of Numerical Recipes (6.2.2), fractional error
 *   below 1.2e-7 everywhere, so erf = 1 - erfc is accurate to ~1e-7 absolute.
 */

/** Coefficients c_n of erf(x) = x * sum c_n x^(2n), c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)). */
export const ERF_SERIES: readonly number[] = (() => {
  const c: number[] = [];
  let fact = 1;
  for (let n = 0; n < 12; n++) {
    if (n > 0) fact *= n;
    c.push(((2 / Math.sqrt(Math.PI)) * (n % 2 ? -1 : 1)) / (fact * (2 * n + 1)));
  }
  return c;
})();

/** erfc(a) = t exp(-a^2 + P(t)), t = 1 / (1 + a/2), P's coefficients in increasing powers. */
export const ERFC_POLY: readonly number[] = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];

function erfSeries(x: number): number {
  const z = x * x;
  let s = 0;
  for (let n = ERF_SERIES.length - 1; n >= 0; n--) s = s * z + ERF_SERIES[n]!;
  return x * s;
}

function erfcPos(a: number): number {
  const t = 1 / (1 + 0.5 * a);
  let p = 0;
  for (let n = ERFC_POLY.length - 1; n >= 0; n--) p = p * t + ERFC_POLY[n]!;
  return t * Math.exp(-a * a + p);
}

/** Error function. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return erfSeries(x);
  if (Number.isNaN(a)) return NaN;
  const r = 1 - erfcPos(a);
  return x < 0 ? -r : r;
}

/** Complementary error function 1 - erf(x), without cancellation for large x. */
export function erfc(x: number): number {
  if (Math.abs(x) < 0.5) return 1 - erfSeries(x);
  return x >= 0 ? erfcPos(x) : 2 - erfcPos(-x);
}
