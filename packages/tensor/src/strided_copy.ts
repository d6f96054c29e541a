import type { StorageArray } from './dtype.js';

/**
 * Copy the elements of a strided view of `src` (any shape, strides possibly zero or negative) into
 * `out` in row-major order. The loop is written out rather than calling back per element — the
 * callback form cost ~3x on a 4-d transpose (`pnpm bench ndarray`, against ndarray-ops' compiled
 * loops) — and rows with a unit stride are copied with `set`.
 */
export function copyStrided(
  src: StorageArray,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  out: StorageArray,
): void {
  const rank = shape.length;
  if (shape.some((d) => d === 0)) return;
  const s = src as Float32Array;
  const o = out as Float32Array;
  if (rank === 0) {
    o[0] = s[offset]!;
    return;
  }
  const last = rank - 1;
  const lastDim = shape[last]!;
  const lastStride = strides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let src0 = offset;
  for (let dst = 0; ; ) {
    if (lastStride === 1) {
      o.set(s.subarray(src0, src0 + lastDim), dst);
      dst += lastDim;
    } else {
      for (let j = 0, p = src0; j < lastDim; j++, p += lastStride) o[dst++] = s[p]!;
    }
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      src0 += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src0 -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
