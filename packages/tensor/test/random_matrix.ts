import { type Matrix, Rng } from '@whittle/tensor/node';

/** A seeded m×n float64 matrix of standard normal entries (test input for the linalg routines). */
export function randomMatrix(m: number, n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const d = new Float64Array(m * n);
  for (let i = 0; i < d.length; i++) d[i] = rng.normal();
  return { rows: m, cols: n, data: d };
}
