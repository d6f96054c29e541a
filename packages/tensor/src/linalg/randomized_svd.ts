import { ArgumentError } from '../errors.js';
import { Rng } from '../rng.js';
import { type Matrix, matmul64, matmulTN64, matrix, randomNormalMatrix } from './matrix.js';
import { qr } from './qr.js';
import { type SVD, svd } from './svd.js';

/** Options of {@link randomizedSvd}. */
export interface RandomizedSvdOptions {
  /** Extra sketch columns beyond `rank` (default 10). */
  oversampling?: number;
  /** Power (subspace) iterations, each re-orthonormalized (default 2; raise for flat spectra). */
  powerIterations?: number;
  /** Seeded generator for the Gaussian test matrix (default `new Rng(0)`). */
  rng?: Rng;
}

/**
 * Truncated SVD of rank `rank` by the randomized range finder of Halko, Martinsson & Tropp
 * (2011, Alg. 4.4 + 5.1): sketch Y = A·Ω with a Gaussian Ω of rank + oversampling columns,
 * refine with power iterations (QR after every product), project B = Qᵀ·A and take the exact
 * SVD of the small B. Cost O(m·n·l·(2q + 2)) with l = rank + oversampling; deterministic for a
 * given seed. Returns U m×r, s (r, descending), Vᵀ r×n with r = min(rank, m, n).
 */
export function randomizedSvd(a: Matrix, rank: number, opts: RandomizedSvdOptions = {}): SVD {
  const { rows: m, cols: n } = a;
  if (!Number.isInteger(rank) || rank < 1) throw new ArgumentError(`randomizedSvd: rank must be a positive integer, got ${rank}`);
  const oversampling = opts.oversampling ?? 10;
  const q = opts.powerIterations ?? 2;
  if (oversampling < 0 || q < 0) throw new ArgumentError(`randomizedSvd: oversampling (${oversampling}) and powerIterations (${q}) must be >= 0`);
  const kmax = Math.min(m, n);
  const r = Math.min(rank, kmax);
  const l = Math.min(r + oversampling, kmax);
  const rng = opts.rng ?? new Rng(0);
  const omega = randomNormalMatrix(n, l, rng);
  let Q = qr(matmul64(a, omega)).q; // m×l
  for (let i = 0; i < q; i++) {
    const Z = qr(matmulTN64(a, Q)).q; // n×l
    Q = qr(matmul64(a, Z)).q; // m×l
  }
  // Bᵀ = Aᵀ·Q (n×l); Bᵀ = U₁ S V₁ᵀ  ⇒  A ≈ Q·B = (Q·V₁) S U₁ᵀ
  const bt = matmulTN64(a, Q);
  const small = svd(bt); // u n×l, s l, vt l×l
  const v1 = matrix(l, r);
  for (let i = 0; i < l; i++) for (let j = 0; j < r; j++) v1.data[i * r + j] = small.vt.data[j * l + i]!;
  const u = matmul64(Q, v1); // m×r
  const vt = matrix(r, n);
  for (let j = 0; j < r; j++) for (let i = 0; i < n; i++) vt.data[j * n + i] = small.u.data[i * l + j]!;
  return { u, s: small.s.slice(0, r), vt };
}
