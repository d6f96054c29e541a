import type { MatView } from './sgemm.js';

/**
 * Pack rows [i0, i0+mc) × cols [k0, k0+kc) of A (scaled by alpha) into MR-row panels:
 * panel p holds dst[p*kc*MR + k*MR + r]; rows past mc are zero.
 */
export function packPanelsA(dst: Float32Array, dOff: number, A: MatView, i0: number, k0: number, mc: number, kc: number, alpha: number, mr: number): void {
  const a = A.data;
  let d = dOff;
  for (let p = 0; p < mc; p += mr) {
    const rows = Math.min(mr, mc - p);
    for (let r = 0; r < mr; r++) {
      let o = d + r;
      if (r >= rows) {
        for (let k = 0; k < kc; k++, o += mr) dst[o] = 0;
        continue;
      }
      let s = A.off + (i0 + p + r) * A.rs + k0 * A.cs;
      for (let k = 0; k < kc; k++, o += mr, s += A.cs) dst[o] = alpha * a[s]!;
    }
    d += kc * mr;
  }
}

/**
 * Pack rows [k0, k0+kc) × cols [j0, j0+nc) of B into NR-column panels:
 * panel p holds dst[p*kc*NR + k*NR + c]; columns past nc are zero.
 */
export function packPanelsB(dst: Float32Array, dOff: number, B: MatView, k0: number, j0: number, kc: number, nc: number, nr: number): void {
  const b = B.data;
  let d = dOff;
  for (let p = 0; p < nc; p += nr) {
    const cols = Math.min(nr, nc - p);
    for (let c = 0; c < nr; c++) {
      let o = d + c;
      if (c >= cols) {
        for (let k = 0; k < kc; k++, o += nr) dst[o] = 0;
        continue;
      }
      let s = B.off + k0 * B.rs + (j0 + p + c) * B.cs;
      for (let k = 0; k < kc; k++, o += nr, s += B.rs) dst[o] = b[s]!;
    }
    d += kc * nr;
  }
}
