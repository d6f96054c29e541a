import { type Matrix, type Rng, type SVD, frobeniusNorm, randomNormalMatrix, randomizedSvd, singularEnergies, svd } from '@whittle/tensor';

/** How singular value decompositions are computed. */
export type SvdMethod = 'exact' | 'randomized' | 'auto';

/** Options of {@link decompose}. */
export interface DecomposeOptions {
  method: SvdMethod;
  /** `auto` uses the randomized SVD when min(rows, cols) is at least this (default 512). */
  randomizedMinDim?: number;
  /** Largest rank that can ever be used (the break-even rank); the SVD is not computed beyond. */
  maxRank: number;
  /**
   * Smallest relative energy the kept spectrum must reach when known in advance (energy and
   * error modes): the randomized SVD starts small and doubles its rank until this fraction of
   * ‖A‖²_F is captured or `maxRank` is reached. Budget mode passes 1 (compute up to maxRank).
   */
  energyNeeded?: number;
  /**
   * Layers left dense when unprofitable (the pass's `allowNoSavings` off): lets a layer whose
   * energy target is out of reach below break-even skip its SVD (`breakEvenSpectrum`).
   */
  skipUnprofitable?: boolean;
  /** Compute at least this many triplets (fixed rank above the break-even rank). */
  minRank?: number;
  oversampling?: number;
  powerIterations?: number;
  rng: Rng;
}

/** A (possibly truncated) SVD plus what is needed to select ranks from it. */
export interface Spectrum {
  svd: SVD;
  /** ‖A‖²_F (the total energy, also when the SVD is truncated). */
  total: number;
  /** Whether the randomized SVD was used. */
  randomized: boolean;
}

/** Whether {@link decompose} takes the randomized path for `a`. */
export function useRandomized(a: Matrix, o: DecomposeOptions): boolean {
  if (o.method === 'exact') return false;
  const k = Math.min(a.rows, a.cols);
  // a randomized sketch only pays when the needed rank is well below min(m, n)
  const want = Math.max(o.maxRank, o.minRank ?? 0);
  if (want >= k * 0.75) return o.method === 'randomized' && want < k;
  return o.method === 'randomized' || k >= (o.randomizedMinDim ?? 512);
}

/** Cumulative energy of the first r singular values. */
export function energyOf(s: ArrayLike<number>, r: number): number {
  let e = 0;
  for (let i = 0; i < Math.min(r, s.length); i++) e += s[i]! * s[i]!;
  return e;
}

/** The first rank the randomized path tries and its cap (see {@link decompose}). */
function randomizedRanks(a: Matrix, o: DecomposeOptions, need: number, total: number): { first: number; kmax: number } {
  const kmax = Math.min(Math.min(a.rows, a.cols), Math.max(1, o.maxRank, o.minRank ?? 0));
  const first = need >= total ? kmax : Math.min(kmax, Math.max(16, o.minRank ?? 0, Math.ceil(Math.min(a.rows, a.cols) / 16)));
  return { first, kmax };
}

/**
 * Break-even decided before the randomized SVD: when `energyNeeded` (0 < e < 1) is set and even
 * the leading `maxRank` singular values (capped as in {@link decompose}) hold less than that
 * energy — measured exactly from the eigenvalues of the smaller Gram matrix, at a fraction of
 * the cost of the rank-doubling randomized SVDs — the randomized path could only end at that
 * cap without reaching the energy (its singular values are those of a projection of A, never
 * above A's). Returns the relative spectrum it would have reported at the cap's length and
 * advances `o.rng` exactly as those SVDs would have (later layers draw the same numbers), or
 * null when the randomized path would not run or might succeed.
 */
export function breakEvenSpectrum(a: Matrix, o: DecomposeOptions): { spectrum: Float64Array; total: number } | null {
  const e = o.energyNeeded ?? 1;
  if (!o.skipUnprofitable || !(e > 0 && e < 1) || !useRandomized(a, o)) return null;
  const f = frobeniusNorm(a);
  const total = f * f;
  if (!(total > 0)) return null;
  const energies = singularEnergies(a);
  const need = e * total;
  const { first, kmax } = randomizedRanks(a, o, need, total);
  let kept = 0;
  for (let i = 0; i < kmax; i++) kept += energies[i]!;
  // a margin far above the Gram eigenvalues' rounding: near the boundary the SVD decides
  if (kept >= need - 1e-9 * total) return null;
  const k = Math.min(a.rows, a.cols);
  for (let rank = first; ; rank = Math.min(kmax, rank * 2)) {
    randomNormalMatrix(a.cols, Math.min(Math.min(rank, k) + (o.oversampling ?? 10), k), o.rng);
    if (rank >= kmax) break;
  }
  return { spectrum: Float64Array.from(energies.subarray(0, kmax), (v) => v / total), total };
}

/**
 * SVD of `a` for rank selection: exact (one-sided Jacobi) or randomized (Halko et al.) with
 * adaptive rank doubling; the randomized result holds at most `maxRank` triplets.
 */
export function decompose(a: Matrix, o: DecomposeOptions): Spectrum {
  const f = frobeniusNorm(a);
  const total = f * f;
  if (!useRandomized(a, o)) return { svd: svd(a), total, randomized: false };
  const need = (o.energyNeeded ?? 1) * total;
  const { first, kmax } = randomizedRanks(a, o, need, total);
  let rank = first;
  for (;;) {
    const r = randomizedSvd(a, rank, { rng: o.rng, oversampling: o.oversampling ?? 10, powerIterations: o.powerIterations ?? 2 });
    if (rank >= kmax || energyOf(r.s, rank) >= need) return { svd: r, total, randomized: true };
    rank = Math.min(kmax, rank * 2);
  }
}
