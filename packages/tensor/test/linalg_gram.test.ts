import { describe, expect, it } from 'vitest';
import { randomMatrix } from './random_matrix.js';
import {
  NumericError,
  type Matrix,
  gramRows,
  leadingLeftSingular,
  leadingSingularVectors,
  matrix,
  singularEnergies,
  singularSubspaces,
  svd,
  symmetricEigen,
  symmetricEigenStaged,
} from '@whittle/tensor/node';


/** m×n of rank `rank` with singular values decaying as 0.7^j (exact zeros beyond). */
function lowRank(m: number, n: number, rank: number, seed: number): Matrix {
  const a = randomMatrix(m, rank, seed);
  const b = randomMatrix(rank, n, seed + 1);
  const out = matrix(m, n);
  for (let i = 0; i < m; i++) for (let r = 0; r < rank; r++) {
    const f = a.data[i * rank + r]! * 0.7 ** r;
    for (let j = 0; j < n; j++) out.data[i * n + j] = out.data[i * n + j]! + f * b.data[r * n + j]!;
  }
  return out;
}

/** Largest |(XᵀX − I)_{pq}| over the columns of X. */
function orthoError(x: Matrix): number {
  let worst = 0;
  for (let p = 0; p < x.cols; p++) for (let q = 0; q < x.cols; q++) {
    let s = 0;
    for (let i = 0; i < x.rows; i++) s += x.data[i * x.cols + p]! * x.data[i * x.cols + q]!;
    worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
  }
  return worst;
}

/** ‖(I − X·Xᵀ)·Y‖_F for orthonormal X, Y with the same column count: 0 when they span the same space. */
function subspaceDistance(x: Matrix, y: Matrix): number {
  const r = x.cols;
  const m = x.rows;
  let f = 0;
  for (let q = 0; q < y.cols; q++) {
    const res = Float64Array.from({ length: m }, (_, i) => y.data[i * y.cols + q]!);
    for (let p = 0; p < r; p++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += x.data[i * r + p]! * res[i]!;
      for (let i = 0; i < m; i++) res[i] = res[i]! - s * x.data[i * r + p]!;
    }
    for (let i = 0; i < m; i++) f += res[i]! * res[i]!;
  }
  return Math.sqrt(f);
}

function columns(a: Matrix, r: number): Matrix {
  const out = matrix(a.rows, r);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < r; j++) out.data[i * r + j] = a.data[i * a.cols + j]!;
  return out;
}

function transposed(a: Matrix): Matrix {
  const out = matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

describe('symmetricEigen', () => {
  it('A·v = λ·v with orthonormal vectors, values descending, on random symmetric matrices', () => {
    for (const n of [1, 2, 5, 33, 80]) {
      const g = gramRows(randomMatrix(n, n + 3, n));
      // make it indefinite: subtract a multiple of the identity
      for (let i = 0; i < n; i++) g.data[i * n + i] = g.data[i * n + i]! - n;
      const { values, vectors } = symmetricEigen(g);
      const v = vectors!;
      expect(orthoError(v)).toBeLessThan(1e-12);
      let scale = 0;
      for (const x of values) scale = Math.max(scale, Math.abs(x));
      for (let j = 0; j < n; j++) {
        if (j > 0) expect(values[j]!).toBeLessThanOrEqual(values[j - 1]!);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += g.data[i * n + k]! * v.data[k * n + j]!;
          expect(Math.abs(s - values[j]! * v.data[i * n + j]!)).toBeLessThan(1e-12 * scale);
        }
      }
    }
  });

  it('a diagonal matrix gives its diagonal, sorted, and unit vectors', () => {
    const d = matrix(3, 3, [2, 0, 0, 0, -1, 0, 0, 0, 5]);
    const { values, vectors } = symmetricEigen(d);
    expect([...values]).toEqual([5, 2, -1]);
    expect(Math.abs(vectors!.data[2 * 3 + 0]!)).toBeCloseTo(1, 14);
    expect(Math.abs(vectors!.data[0 * 3 + 1]!)).toBeCloseTo(1, 14);
    expect(Math.abs(vectors!.data[1 * 3 + 2]!)).toBeCloseTo(1, 14);
  });

  it('the staged form gives the same values and vectors, vectors computed once', () => {
    const g = gramRows(randomMatrix(40, 60, 7));
    const full = symmetricEigen(g);
    const staged = symmetricEigenStaged(g);
    expect([...staged.values]).toEqual([...full.values]);
    const v = staged.vectors();
    expect([...v.data]).toEqual([...full.vectors!.data]);
    expect(staged.vectors()).toBe(v);
  });

  it('values only: the same eigenvalues, no vectors', () => {
    const g = gramRows(randomMatrix(25, 25, 9));
    const a = symmetricEigen(g, { vectors: false });
    expect(a.vectors).toBeNull();
    expect([...a.values]).toEqual([...symmetricEigen(g).values]);
  });

  it('rejects non-square and non-finite input with a NumericError', () => {
    expect(() => symmetricEigen(matrix(2, 3))).toThrow(NumericError);
    expect(() => symmetricEigen(matrix(2, 2, [1, NaN, NaN, 1]))).toThrow(/row 0, col 1/);
  });
});

describe('Gram-based singular spectra and subspaces against the exact svd', () => {
  const cases: [string, Matrix][] = [
    ['random wide 30x70', randomMatrix(30, 70, 1)],
    ['random tall 90x40', randomMatrix(90, 40, 2)],
    ['random square 64x64', randomMatrix(64, 64, 3)],
    ['rank-8 wide 40x100', lowRank(40, 100, 8, 4)],
    ['rank-8 tall 100x40', lowRank(100, 40, 8, 5)],
  ];

  it('singularEnergies = σ² of svd to absolute accuracy k·ε·σ₁², min(m, n) of them', () => {
    for (const [name, a] of cases) {
      const ex = svd(a);
      const e = singularEnergies(a);
      expect(e.length, name).toBe(ex.s.length);
      const s1 = ex.s[0]! ** 2;
      for (let i = 0; i < e.length; i++) {
        expect(e[i]!, name).toBeGreaterThanOrEqual(0);
        expect(Math.abs(e[i]! - ex.s[i]! ** 2), `${name} σ${i}`).toBeLessThan(1e-13 * e.length * s1);
      }
    }
  });

  it('leading left and right vectors span the exact singular subspaces and are orthonormal', () => {
    for (const [name, a] of cases) {
      const ex = svd(a);
      for (const r of [1, 5, 8]) {
        const { u, v, energies } = leadingSingularVectors(a, r, r);
        expect(u.rows, name).toBe(a.rows);
        expect(v.rows, name).toBe(a.cols);
        expect(orthoError(u), name).toBeLessThan(1e-12);
        expect(orthoError(v), name).toBeLessThan(1e-12);
        expect(subspaceDistance(u, columns(ex.u, r)), `${name} U r=${r}`).toBeLessThan(1e-9);
        expect(subspaceDistance(v, columns(transposed(ex.vt), r)), `${name} V r=${r}`).toBeLessThan(1e-9);
        expect(energies.length).toBe(ex.s.length);
        // singular pairs: u_jᵀ·A·v_j = σ_j (signs matched), so U·Σ·Vᵀ is a truncated SVD
        for (let j = 0; j < r; j++) {
          let s = 0;
          for (let i = 0; i < a.rows; i++) for (let t = 0; t < a.cols; t++) s += u.data[i * r + j]! * a.data[i * a.cols + t]! * v.data[t * r + j]!;
          expect(Math.abs(s - ex.s[j]!), `${name} pair ${j}`).toBeLessThan(1e-10 * ex.s[0]!);
        }
        const left = leadingLeftSingular(a, r).u;
        expect(subspaceDistance(left, columns(ex.u, r)), `${name} leadingLeftSingular r=${r}`).toBeLessThan(1e-9);
      }
    }
  });

  it('past the numerical rank the vectors are still an orthonormal basis containing the exact range', () => {
    for (const [name, a] of cases.slice(3)) {
      const ex = svd(a);
      const { u, v } = leadingSingularVectors(a, 12, 12);
      expect(orthoError(u), name).toBeLessThan(1e-9);
      expect(orthoError(v), name).toBeLessThan(1e-9);
      // the rank-8 range lies inside the 12 columns: projecting the exact vectors keeps them whole
      for (const [x, ref] of [[u, columns(ex.u, 8)], [v, columns(transposed(ex.vt), 8)]] as const) {
        for (let j = 0; j < 8; j++) {
          let kept = 0;
          for (let c = 0; c < 12; c++) {
            let s = 0;
            for (let i = 0; i < x.rows; i++) s += x.data[i * 12 + c]! * ref.data[i * 8 + j]!;
            kept += s * s;
          }
          expect(kept, `${name} column ${j}`).toBeGreaterThan(1 - 1e-9);
        }
      }
    }
  });

  it('more left vectors than the tall side has singular values: completed to an orthonormal basis', () => {
    const a = randomMatrix(20, 6, 11);
    const { u } = leadingSingularVectors(a, 10, 0);
    expect(u.cols).toBe(10);
    expect(orthoError(u)).toBeLessThan(1e-12);
    expect(subspaceDistance(columns(u, 6), columns(svd(a).u, 6))).toBeLessThan(1e-9);
  });

  it('the staged subspaces give the energies first and the same vectors as leadingSingularVectors', () => {
    const a = randomMatrix(30, 50, 12);
    const sub = singularSubspaces(a);
    const direct = leadingSingularVectors(a, 7, 9);
    expect([...sub.energies]).toEqual([...direct.energies]);
    const got = sub.leading(7, 9);
    expect([...got.u.data]).toEqual([...direct.u.data]);
    expect([...got.v.data]).toEqual([...direct.v.data]);
  });
});
