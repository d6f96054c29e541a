import { NumericError } from '../errors.js';
import { type Matrix, matrix } from './matrix.js';
import { rotateRows } from './rotation.js';

/** Eigenvalues (descending) and, when asked for, eigenvectors (columns of `vectors`, same order). */
export interface SymmetricEigen {
  readonly values: Float64Array;
  readonly vectors: Matrix | null;
}

/**
 * Eigendecomposition of a symmetric n×n matrix in float64: Householder tridiagonalization then
 * implicit-shift QL (the EISPACK tred2/tql2 pair, as in JAMA). Only the lower triangle is read.
 * About 4n³/3 flops for the values alone, ~9n³ with vectors. Norm-wise backward stable: every
 * eigenvalue to an absolute accuracy of a few n·ε·‖A‖₂ (not relative accuracy for the small
 * ones). The work array is kept transposed so the vector rotations touch contiguous rows.
 * The input is not modified.
 */
export function symmetricEigen(a: Matrix, opts: { vectors?: boolean } = {}): SymmetricEigen {
  const staged = symmetricEigenStaged(a);
  return { values: staged.values, vectors: (opts.vectors ?? true) ? staged.vectors() : null };
}

/** {@link symmetricEigen} in two stages: the eigenvalues at once, the eigenvectors when first asked for. */
export interface StagedSymmetricEigen {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** Eigenvectors as the columns of an n×n matrix (order of `values`), computed on the first call. */
  vectors(): Matrix;
}

/**
 * {@link symmetricEigen} split so a caller can decide from the eigenvalues whether it needs the
 * eigenvectors: the Householder reduction is done once and kept (n² values) until `vectors()`
 * accumulates it and repeats the QL iteration with the rotations applied. Same results as
 * `symmetricEigen`.
 */
export function symmetricEigenStaged(a: Matrix): StagedSymmetricEigen {
  const n = a.rows;
  if (a.cols !== n) throw new NumericError(`symmetricEigen: matrix is ${a.rows}x${a.cols}, not square`);
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i]!)) throw new NumericError(`symmetricEigen: element ${i} (row ${Math.floor(i / n)}, col ${i % n}) of the ${n}x${n} matrix is ${a.data[i]}`);
  }
  if (n === 0) return { values: new Float64Array(0), vectors: () => matrix(0, 0) };
  // V[k][j] of the textbook algorithm lives at z[j * n + k]; symmetric input, so z starts as A
  // (lower triangle mirrored up, i.e. columns of A's lower part become rows of z)
  let z: Float64Array | null = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    const v = a.data[i * n + j]!;
    z[j * n + i] = v;
    z[i * n + j] = v;
  }
  const h = new Float64Array(n);
  const off = new Float64Array(n);
  reduce(z, n, h, off);
  // values: QL on the tridiagonal (diagonal left on z's diagonal) without vectors
  const d = new Float64Array(n);
  for (let j = 0; j < n; j++) d[j] = z[j * n + j]!;
  const e = off.slice();
  e[0] = 0;
  tridiagonalQl(d, e, null, n);
  const values = Float64Array.from(d).sort().reverse();
  let vectors: Matrix | null = null;
  return {
    values,
    vectors(): Matrix {
      if (vectors) return vectors;
      const zz = z!;
      z = null; // the reduction is consumed
      accumulate(zz, n, h, off);
      tridiagonalQl(h, off, zz, n);
      const order = Array.from(h.keys()).sort((x, y) => h[y]! - h[x]!);
      vectors = matrix(n, n);
      const out = vectors.data;
      order.forEach((src, dst) => {
        for (let k = 0; k < n; k++) out[k * n + dst] = zz[src * n + k]!;
      });
      return vectors;
    },
  };
}

/**
 * tred2's Householder reduction on the transposed work array: e gets the off-diagonal (e[1..]),
 * d the reflectors' scalars, z the diagonal (on its diagonal) and the reflectors.
 */
function reduce(z: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = z[j * n + n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = z[j * n + i - 1]!;
        z[j * n + i] = 0;
        z[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        z[i * n + j] = f;
        const col = j * n;
        g = e[j]! + z[col + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = z[col + k]!;
          g += v * d[k]!;
          e[k] = e[k]! + v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) z[col + k] = z[col + k]! - (f * e[k]! + g * d[k]!);
        d[j] = z[col + i - 1]!;
        z[col + i] = 0;
      }
    }
    d[i] = h;
  }
}

/** tred2's accumulation: z becomes Q (as rows), d the tridiagonal's diagonal, e[0] = 0. */
function accumulate(z: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    z[i * n + n - 1] = z[i * n + i]!;
    z[i * n + i] = 1;
    const h = d[i + 1]!;
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = z[next + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += z[next + k]! * z[col + k]!;
        for (let k = 0; k <= i; k++) z[col + k] = z[col + k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) z[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = z[j * n + n - 1]!;
    z[j * n + n - 1] = 0;
  }
  z[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** tql2: diagonalize the tridiagonal (d, e[1..]) by implicit QL, rotating the rows of z when given. */
function tridiagonalQl(d: Float64Array, e: Float64Array, z: Float64Array | null, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2.220446049250313e-16;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new NumericError(`symmetricEigen: QL iteration did not converge for eigenvalue ${l} of ${n} (NaN/Inf or badly scaled input?)`);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          // rows i+1, i of z: (z_{i+1}, z_i) ← (s·z_i + c·z_{i+1}, c·z_i − s·z_{i+1})
          if (z) rotateRows(z, n, i, i + 1, c, s);
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}
