import type { WindowNd } from '../../../ops/window.js';

/** Product of a list of sizes. */
export const prodOf = (v: readonly number[]): number => v.reduce((p, d) => p * d, 1);

/** Row-major (contiguous) strides of `dims`. */
export function rowMajorStrides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let a = dims.length - 2; a >= 0; a--) s[a] = s[a + 1]! * dims[a + 1]!;
  return s;
}

/**
 * Per-axis offsets of every kernel tap in window order (row-major over the kernel):
 * `taps[t * n + a]` = i_a * dilation_a for tap t.
 */
export function tapOffsets(w: WindowNd): Int32Array {
  const n = w.kernel.length;
  const count = prodOf(w.kernel);
  const taps = new Int32Array(count * n);
  for (let t = 0; t < count; t++) {
    let rem = t;
    for (let a = n - 1; a >= 0; a--) {
      taps[t * n + a] = (rem % w.kernel[a]!) * w.dilations[a]!;
      rem = Math.floor(rem / w.kernel[a]!);
    }
  }
  return taps;
}

/**
 * Window start (position of tap 0, may be negative) per axis of every window position in
 * row-major order: `starts[q * n + a]` = o_a * stride_a - padBegin_a.
 */
export function windowStarts(w: WindowNd): Int32Array {
  const n = w.kernel.length;
  const count = prodOf(w.outShape);
  const starts = new Int32Array(count * n);
  for (let q = 0; q < count; q++) {
    let rem = q;
    for (let a = n - 1; a >= 0; a--) {
      starts[q * n + a] = (rem % w.outShape[a]!) * w.strides[a]! - w.pads[a]!;
      rem = Math.floor(rem / w.outShape[a]!);
    }
  }
  return starts;
}
