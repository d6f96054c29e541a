import { NumericError } from '../errors.js';
import { type Matrix, matrix, transposeMatrix } from './matrix.js';
import { qr } from './qr.js';
import { svdGolubKahan } from './bidiagonal_svd.js';
import { rotateRows } from './rotation.js';

/**
 * A thin SVD A ≈ U·diag(s)·Vᵀ: `u` m×k with orthonormal columns, `s` descending non-negative,
 * `vt` k×n with orthonormal rows (the right singular vectors as rows).
 */
export interface SVD {
  readonly u: Matrix;
  readonly s: Float64Array;
  readonly vt: Matrix;
}

/** Options of {@link svd}. */
export interface SvdOptions {
  /** Maximum Jacobi sweeps before a NumericError (default 60; convergence usually takes < 12). */
  maxSweeps?: number;
  /**
   * 'jacobi' (QR + one-sided Jacobi: small singular values to high relative accuracy),
   * 'golub-kahan' (bidiagonalization + implicit QR: several times faster on large matrices), or
   * 'auto' (default): Jacobi up to min(m, n) = 256, Golub–Kahan above.
   */
  method?: 'auto' | 'jacobi' | 'golub-kahan';
}

/**
 * Thin singular value decomposition in float64, k = min(m, n). Jacobi: a Householder QR first,
 * then one-sided (Hestenes) Jacobi rotations on the k×k triangular factor, which computes small
 * singular values to high relative accuracy down to k·1e-15·‖A‖_F (below that they are rounding
 * noise and reported as at most that bound, their U columns completed); Golub–Kahan for large matrices (see
 * `SvdOptions.method`). Singular values are sorted descending; U and V are
 * orthonormal (columns for zero singular values are completed to an orthonormal basis).
 * Cost O(m·n·k) for the QR plus O(k³) per sweep. The input is not modified.
 */
export function svd(a: Matrix, opts: SvdOptions = {}): SVD {
  if (a.rows < a.cols) {
    const t = svd(transposeMatrix(a), opts);
    return { u: transposeMatrix(t.vt), s: t.s, vt: transposeMatrix(t.u) };
  }
  const m = a.rows;
  const n = a.cols;
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i]!)) throw new NumericError(`svd: element ${i} (row ${Math.floor(i / n)}, col ${i % n}) of the ${m}x${n} matrix is ${a.data[i]}`);
  }
  if (n === 0) return { u: matrix(m, 0), s: new Float64Array(0), vt: matrix(0, n) };
  const method = opts.method ?? 'auto';
  if (method === 'golub-kahan' || (method === 'auto' && n > 256)) return svdGolubKahan(a);
  const { q, r } = qr(a); // q m×n, r n×n
  // rows of W are the columns of R; rows of V are the columns of the accumulated rotation
  const W = transposeMatrix(r).data;
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let frob2 = 0;
  for (let i = 0; i < W.length; i++) frob2 += W[i]! * W[i]!;
  // rows shorter than this are numerically zero (below n·1e-15·‖A‖_F ≥ n·1e-15·σ_max): they are not
  // rotated (their direction is rounding noise, no rotation makes it orthogonal to relative
  // precision) and their singular values count as zero (U completed)
  const negligible = n * 1e-15 * Math.sqrt(frob2);
  jacobiSweeps(W, V, n, n, opts.maxSweeps ?? 60, negligible * negligible);
  const sigma = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let s2 = 0;
    for (let t = 0; t < n; t++) s2 += W[p * n + t]! * W[p * n + t]!;
    sigma[p] = Math.sqrt(s2);
  }
  const order = Array.from(sigma.keys()).sort((x, y) => sigma[y]! - sigma[x]!);
  const s = new Float64Array(n);
  const urows = new Float64Array(n * n); // row p = column p of U_R (so U = Q · urowsᵀ)
  const vt = matrix(n, n);
  const tiny = negligible;
  const deficient: number[] = [];
  order.forEach((src, dst) => {
    const sv = sigma[src]!;
    s[dst] = sv;
    vt.data.set(V.subarray(src * n, src * n + n), dst * n);
    if (sv > tiny && sv > 0) {
      for (let t = 0; t < n; t++) urows[dst * n + t] = W[src * n + t]! / sv;
    } else {
      s[dst] = sv;
      deficient.push(dst);
    }
  });
  completeOrthonormalRows(urows, n, deficient);
  // U = Q · U_R, with U_R's columns stored as rows of `urows`
  const u = matrix(m, n);
  const Q = q.data;
  for (let i = 0; i < m; i++) {
    const qi = i * n;
    for (let p = 0; p < n; p++) {
      const up = p * n;
      let acc = 0;
      for (let t = 0; t < n; t++) acc += Q[qi + t]! * urows[up + t]!;
      u.data[i * n + p] = acc;
    }
  }
  return { u, s, vt };
}

/**
 * One-sided Jacobi: rotate pairs of rows of W (count × len) until every pair is orthogonal to
 * working precision, applying the same rotations to the rows of V (count × count). Rows with a
 * squared norm at or below `negligible2` are left alone (numerically zero).
 */
function jacobiSweeps(W: Float64Array, V: Float64Array, count: number, len: number, maxSweeps: number, negligible2: number): void {
  const eps = 1e-15;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < count - 1; p++) {
      const bp = p * len;
      for (let q = p + 1; q < count; q++) {
        const bq = q * len;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let t = 0; t < len; t++) {
          const x = W[bp + t]!;
          const y = W[bq + t]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta) || alpha <= negligible2 || beta <= negligible2) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const tt = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + tt * tt);
        const sn = c * tt;
        rotateRows(W, len, p, q, c, sn);
        rotateRows(V, count, p, q, c, sn);
      }
    }
    if (!rotated) return;
  }
  throw new NumericError(`svd: one-sided Jacobi did not converge in ${maxSweeps} sweeps (matrix has NaN/Inf or is badly scaled?)`);
}

/**
 * Fill the rows listed in `missing` of a row-major n×n array so that all rows are orthonormal,
 * by Gram–Schmidt (twice) against the rows already present of the unit vector e_j farthest from
 * their span (largest 1 − Σ R[o, j]²). The sum of those residuals over j is the number of rows
 * still missing, so the chosen one is at least 1/n away from the span (a fixed acceptance
 * threshold fails when many rows are missing, e.g. a weight with dead output channels).
 */
function completeOrthonormalRows(R: Float64Array, n: number, missing: readonly number[]): void {
  if (!missing.length) return;
  const isMissing = new Set(missing);
  const present = Array.from({ length: n }, (_, i) => i).filter((i) => !isMissing.has(i));
  // residual[j] = squared distance of e_j from the span of the present rows
  const residual = new Float64Array(n).fill(1);
  for (const o of present) for (let t = 0; t < n; t++) residual[t] = residual[t]! - R[o * n + t]! * R[o * n + t]!;
  const cand = new Float64Array(n);
  for (const row of missing) {
    let e = 0;
    for (let t = 1; t < n; t++) if (residual[t]! > residual[e]!) e = t;
    cand.fill(0);
    cand[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const o of present) {
        let d = 0;
        for (let t = 0; t < n; t++) d += cand[t]! * R[o * n + t]!;
        for (let t = 0; t < n; t++) cand[t] = cand[t]! - d * R[o * n + t]!;
      }
    }
    let nn = 0;
    for (let t = 0; t < n; t++) nn += cand[t]! * cand[t]!;
    if (!(nn > 1e-3 / n)) throw new NumericError(`svd: could not complete an orthonormal basis (${present.length} of ${n} rows present, best candidate residual ${nn})`);
    const inv = 1 / Math.sqrt(nn);
    for (let t = 0; t < n; t++) {
      R[row * n + t] = cand[t]! * inv;
      residual[t] = residual[t]! - R[row * n + t]! * R[row * n + t]!;
    }
    present.push(row);
  }
}
