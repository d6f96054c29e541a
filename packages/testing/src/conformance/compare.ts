import { isFloat, type Tensor } from '@whittle/tensor';

/** Tolerances of the ONNX node tests (numpy.testing.assert_allclose). */
export const RTOL = 1e-3;
export const ATOL = 1e-7;

/**
 * Compare an output with the expected tensor as onnx's backend test runner does: same dtype
 * and shape; floats |got - want| <= atol + rtol * |want| with NaN equal to NaN and infinities
 * equal only to themselves; integers and bools exactly. Returns null when they match, else why not.
 */
export async function compareTensors(got: Tensor, want: Tensor, rtol = RTOL, atol = ATOL): Promise<string | null> {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return `shape [${got.shape.join(',')}], expected [${want.shape.join(',')}]`;
  }
  const g = await got.toFloat64();
  const w = await want.toFloat64();
  const exact = !isFloat(want.dtype);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!exact && Number.isFinite(b) && Math.abs(a - b) <= atol + rtol * Math.abs(b)) continue;
    bad++;
    if (first < 0) first = i;
  }
  if (want.dtype === 'int64' || want.dtype === 'uint64') {
    // 64-bit integers beyond 2^53 lose precision in float64: compare the raw values too
    const gd = (await got.data()) as BigInt64Array | BigUint64Array;
    const wd = (await want.data()) as BigInt64Array | BigUint64Array;
    for (let i = 0; i < wd.length; i++) if (gd[i] !== wd[i] && bad === 0) ((bad = 1), (first = i));
  }
  if (bad === 0) return null;
  return `${bad} of ${w.length} elements differ; first at ${first}: got ${g[first]}, expected ${w[first]}`;
}
