/**
 * float64 sums of a contiguous tensor over `axes` when the shape folds to
 * [A reduced, B kept, C reduced, D kept] (any of them 1): sums over rows ([M, N] → [N], the
 * bias gradient), over the last axis, NCHW → [C], and over a middle axis. Each output adds its
 * inputs in row-major order of the reduced dims, as the generic reduction does, so the sums are
 * bit-identical. `v` from `offset` holds the tensor row-major. Returns null for other layouts (the caller then uses the generic loop).
 */
export function sumContiguous(v: ArrayLike<number>, offset: number, shape: readonly number[], axes: readonly number[]): Float64Array | null {
  // fold adjacent dims of the same kind; size-1 dims take no part
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const r = axes.includes(d);
    if (reduced.length && reduced[reduced.length - 1] === r) sizes[sizes.length - 1]! *= n;
    else {
      sizes.push(n);
      reduced.push(r);
    }
  }
  if (reduced[0] === false) {
    sizes.unshift(1);
    reduced.unshift(true);
  }
  while (sizes.length < 4) {
    sizes.push(1);
    reduced.push(reduced.length % 2 === 0);
  }
  if (sizes.length > 4) return null;
  const [A, B, C, D] = sizes as [number, number, number, number];
  const acc = new Float64Array(B * D);
  let p = offset;
  if (C === 1 && D === 1) {
    // [A, B] summed over A (the bias gradient): whole rows added in order
    for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) acc[b] = acc[b]! + v[p++]!;
    return acc;
  }
  if (D === 1) {
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        let s = acc[b]!;
        for (let end = p + C; p < end; p++) s += v[p]!;
        acc[b] = s;
      }
    }
    return acc;
  }
  for (let a = 0; a < A; a++) {
    for (let b = 0, o = 0; b < B; b++, o += D) {
      for (let c = 0; c < C; c++) {
        for (let d = 0; d < D; d++) acc[o + d] = acc[o + d]! + v[p++]!;
      }
    }
  }
  return acc;
}
