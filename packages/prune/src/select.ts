/**
 * The k-th smallest value of an array in expected linear time (quickselect: median-of-three
 * pivot, Hoare partition), for pruning thresholds over millions of scores where a full sort
 * costs n log n.
 */

/** The value at 0-based rank `k` of `a` sorted ascending (reorders `a`; no NaN in `a`; 0 ≤ k < a.length). */
export function selectKth(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot: sorted or constant runs do not degrade to n²
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
