import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { lazyBatchUpdate } from '../src/gptq_linalg.js';

describe('GPTQ lazy-batch update (tiled) equals the plain loop bit for bit', () => {
  for (const [rows, K, count, j0] of [[7, 41, 5, 11], [8, 64, 16, 16], [3, 10, 4, 6], [12, 33, 8, 32]] as const) {
    it(`lazy-batch update, ${rows} rows x ${K} columns, ${count} errors from column ${j0}`, () => {
      const rng = new Rng(rows * K);
      const W = Float64Array.from({ length: rows * K }, () => rng.normal());
      const ldE = count + 3;
      const E = Float64Array.from({ length: rows * ldE }, () => rng.normal());
      // zero errors are skipped by the plain loop; the tiled one subtracts 0·u (same value)
      E[0] = 0;
      const U = Float64Array.from({ length: K * K }, () => rng.normal());
      const u0 = j0 - count;
      const want = Float64Array.from(W);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < count; i++) {
          const e = E[r * ldE + i]!;
          if (e === 0) continue;
          for (let j = j0; j < K; j++) want[r * K + j] = want[r * K + j]! - e * U[(u0 + i) * K + j]!;
        }
      }
      lazyBatchUpdate(W, rows, K, E, ldE, count, U, u0, j0);
      expect(Array.from(W)).toEqual(Array.from(want));
    });
  }
});
