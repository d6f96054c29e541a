import { type Matrix, matrix, transposeMatrix } from './matrix.js';
import { qr } from './qr.js';
import { symmetricEigen, symmetricEigenStaged } from './symmetric_eigen.js';

/** A·Aᵀ (rows×rows, symmetric) from dot products of A's rows, two by two for fewer loads. */
export function gramRows(a: Matrix): Matrix {
  const { rows: m, cols: n } = a;
  const x = a.data;
  const g = matrix(m, m);
  const out = g.data;
  for (let i = 0; i < m; i += 2) {
    const i1 = Math.min(i + 1, m - 1);
    const bi = i * n;
    const bi1 = i1 * n;
    for (let j = i; j < m; j += 2) {
      const j1 = Math.min(j + 1, m - 1);
      const bj = j * n;
      const bj1 = j1 * n;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let t = 0; t < n; t++) {
        const p = x[bi + t]!;
        const q = x[bi1 + t]!;
        const u = x[bj + t]!;
        const v = x[bj1 + t]!;
        s00 += p * u;
        s01 += p * v;
        s10 += q * u;
        s11 += q * v;
      }
      out[i * m + j] = s00;
      out[j * m + i] = s00;
      out[i * m + j1] = s01;
      out[j1 * m + i] = s01;
      out[i1 * m + j] = s10;
      out[j * m + i1] = s10;
      out[i1 * m + j1] = s11;
      out[j1 * m + i1] = s11;
    }
  }
  return g;
}

/**
 * Squared singular values of A (descending, min(rows, cols) of them) as the eigenvalues of the
 * smaller Gram matrix (A·Aᵀ or AᵀA), clamped at 0. Absolute accuracy about k·ε·σ₁² on every
 * value: right for energy sums (rank selection by kept energy), not for small singular values to
 * relative accuracy (use `svd` for that). Cost about k²·max(rows, cols) + 4k³/3, k = min(rows, cols).
 */
export function singularEnergies(a: Matrix): Float64Array {
  const g = gramRows(a.rows <= a.cols ? a : transposeMatrix(a));
  return symmetricEigen(g, { vectors: false }).values.map((v) => Math.max(0, v));
}

/**
 * The leading `r` left singular vectors of A (rows×r, orthonormal columns, descending σ) and the
 * squared singular values (descending, min(rows, cols)), from the eigendecomposition of the
 * smaller Gram matrix. See {@link leadingSingularVectors}.
 */
export function leadingLeftSingular(a: Matrix, r: number): { u: Matrix; energies: Float64Array } {
  const { u, energies } = leadingSingularVectors(a, r, 0);
  return { u, energies };
}

/**
 * The leading `ru` left and `rv` right singular vectors of A (columns of `u` rows×ru and `v`
 * cols×rv, orthonormal, descending σ) and the squared singular values (descending,
 * min(rows, cols)) from ONE symmetric eigendecomposition, of the smaller Gram matrix: that side's
 * vectors are its eigenvectors, the other side's the QR-orthonormalized A·V or Aᵀ·U (which equal
 * U·Σ resp. V·Σ; a direction with σ = 0 is completed to an orthonormal basis), with signs making
 * (u_j, v_j) singular pairs (uⱼᵀ·A·vⱼ = σ_j ≥ 0), so U_r·Σ_r·V_rᵀ is a truncated SVD. A vector's angle
 * to the exact one is about k·ε·σ₁²/(σ_j² − σ_{j+1}²) (times σ₁/σ_j on the derived side), so
 * the result is accurate where the spectrum has a gap at the rank and the spanned subspace is
 * what matters (truncations, Tucker/HOOI factors); use `svd` when small singular triplets must
 * be resolved individually. Cost about k²·max(rows, cols) + 9k³, k = min(rows, cols).
 */
export function leadingSingularVectors(a: Matrix, ru: number, rv: number): { u: Matrix; v: Matrix; energies: Float64Array } {
  const sub = singularSubspaces(a);
  return { ...sub.leading(ru, rv), energies: sub.energies };
}

/** {@link leadingSingularVectors} in two stages: the energies at once, the vectors when asked for. */
export interface SingularSubspaces {
  /** Squared singular values, descending, min(rows, cols) of them (as {@link singularEnergies}). */
  readonly energies: Float64Array;
  /** Leading `ru` left and `rv` right singular vectors (the eigenvectors are computed on the first call). */
  leading(ru: number, rv: number): { u: Matrix; v: Matrix };
}

/**
 * The Gram eigendecomposition behind {@link leadingSingularVectors}, staged: the energies now
 * (what rank selection needs), the leading vectors only if asked for, without repeating the
 * Gram product or the Householder reduction (kept: min(rows, cols)² values plus A).
 */
export function singularSubspaces(a: Matrix): SingularSubspaces {
  const wide = a.rows <= a.cols;
  const b = wide ? a : transposeMatrix(a); // k×l, k ≤ l
  const k = b.rows;
  const eig = symmetricEigenStaged(gramRows(b));
  const energies = eig.values.map((x) => Math.max(0, x));
  return {
    energies,
    leading(ru, rv) {
      const rNear = Math.max(0, Math.min(wide ? ru : rv, k));
      const rFar = Math.max(0, Math.min(wide ? rv : ru, b.cols));
      const ev = eig.vectors().data;
      const near = matrix(k, rNear);
      for (let i = 0; i < k; i++) for (let j = 0; j < rNear; j++) near.data[i * rNear + j] = ev[i * k + j]!;
      const far = farSide(b, ev, rFar);
      return wide ? { u: near, v: far } : { u: far, v: near };
    },
  };
}

/** Orthonormal columns spanning bᵀ·E_r for b k×l and the eigenvector columns E (k×k, row-major), completed beyond k. */
function farSide(b: Matrix, ev: Float64Array, r: number): Matrix {
  const { rows: k, cols: l } = b;
  if (r === 0) return matrix(l, 0);
  const kv = Math.min(r, k);
  // (E_rᵀ·b) row by row (contiguous), then transposed
  const eb = new Float64Array(kv * l);
  const bd = b.data;
  for (let j = 0; j < kv; j++) {
    const dst = j * l;
    for (let i = 0; i < k; i++) {
      const f = ev[i * k + j]!;
      if (f === 0) continue;
      const row = i * l;
      for (let t = 0; t < l; t++) eb[dst + t] = eb[dst + t]! + f * bd[row + t]!;
    }
  }
  const bt = new Float64Array(l * kv);
  for (let t = 0; t < l; t++) for (let j = 0; j < kv; j++) bt[t * kv + j] = eb[j * l + t]!;
  const q = qr(matrix(l, kv, bt)).q;
  // signs as Bᵀ·e_j = σ_j·v_j, so the pairs (e_j, v_j) are singular pairs (B·v_j = σ_j·e_j)
  for (let j = 0; j < kv; j++) {
    let d = 0;
    for (let t = 0; t < l; t++) d += q.data[t * kv + j]! * bt[t * kv + j]!;
    if (d < 0) for (let t = 0; t < l; t++) q.data[t * kv + j] = -q.data[t * kv + j]!;
  }
  return kv === r ? q : completeColumns(q, r);
}

/** Extend orthonormal columns q (m×p) to m×k orthonormal columns with unit vectors, Gram–Schmidt twice. */
function completeColumns(q: Matrix, k: number): Matrix {
  const { rows: m, cols: p } = q;
  const cols: Float64Array[] = [];
  for (let j = 0; j < p; j++) cols.push(Float64Array.from({ length: m }, (_, i) => q.data[i * p + j]!));
  for (let e = 0; e < m && cols.length < k; e++) {
    const c = new Float64Array(m);
    c[e] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const o of cols) {
        let d = 0;
        for (let i = 0; i < m; i++) d += c[i]! * o[i]!;
        for (let i = 0; i < m; i++) c[i] = c[i]! - d * o[i]!;
      }
    }
    let nn = 0;
    for (let i = 0; i < m; i++) nn += c[i]! * c[i]!;
    if (nn < 0.5 / m) continue;
    const inv = 1 / Math.sqrt(nn);
    for (let i = 0; i < m; i++) c[i] = c[i]! * inv;
    cols.push(c);
  }
  const u = matrix(m, k);
  cols.forEach((c, j) => {
    for (let i = 0; i < m; i++) u.data[i * k + j] = c[i]!;
  });
  return u;
}
