import { describe, expect, it } from 'vitest';
import { GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { hqqQuantize, quantizeHqqPass } from '../src/hqq.js';
import { dequantizeWeight, quantizeRtn } from '../src/weights.js';
import { mse } from '../src/quant_math.js';
import { ortRun, relError } from './helpers.js';

/** Heavy-tailed weights (a few outliers per row), where min/max grids waste levels. */
function heavy(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.normal() * 0.05) / Math.sqrt(Math.max(0.02, rng.uniform(0, 1))));
}

describe('hqqQuantize', () => {
  const rng = new Rng(21);
  const rows = 32;
  const cols = 128;
  const w = heavy(rng, rows * cols);
  for (const bits of [4, 3]) {
    it(`${bits}-bit block 64: integer zero points in range, weight MSE below min/max RTN`, () => {
      const spec = { bits, granularity: 'block' as const, blockSize: 64 };
      const q = hqqQuantize(w, rows, cols, { ...spec, iters: 20, lpNorm: 0.7, beta: 10, kappa: 1.01 });
      const rtn = quantizeRtn(w, rows, cols, { ...spec, symmetric: false });
      for (const z of q.zeroPoints) expect(z).toBeLessThanOrEqual(2 ** bits - 1);
      for (const c of q.codes) expect(c).toBeLessThanOrEqual(2 ** bits - 1);
      expect(mse(w, dequantizeWeight(q))).toBeLessThan(0.97 * mse(w, dequantizeWeight(rtn)));
    });
  }
});

describe('quantize-hqq', () => {
  it('MatMulNBits output in onnxruntime equals x · dequantized weights; report per layer', async () => {
    const rng = new Rng(3);
    const K = 128;
    const N = 24;
    const w = Float32Array.from(heavy(rng, K * N));
    const b = new GraphBuilder('mm');
    b.output(b.node('MatMul', [b.input('x', 'float32', [2, K]), b.initializer('w', tensor(w, [K, N], 'float32', { backend: 'cpu' }))], {}, { name: 'mm' }), 'float32', [2, N]);
    const model = b.model([{ domain: '', version: 17 }]);
    const { model: q, report } = await runPass(quantizeHqqPass, model, { bits: 4, blockSize: 32 });
    const layers = report.details!.layers as { hqqWeightMse: number; rtnWeightMse: number }[];
    expect(layers[0]!.hqqWeightMse).toBeLessThan(layers[0]!.rtnWeightMse);
    const nb = q.graph.nodes.find((n) => n.opType === 'MatMulNBits')!;
    expect(nb).toBeDefined();
    const x = Float32Array.from({ length: 2 * K }, (_, i) => Math.sin(i));
    const y = Object.values(await ortRun(q, { x: { data: x, dims: [2, K] } }))[0]!;
    // reference from the stored codes: the same HQQ on the canonical [N, K] weight
    const canon = new Float64Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) canon[n * K + k] = w[k * N + n]!;
    const d = dequantizeWeight(hqqQuantize(canon, N, K, { bits: 4, granularity: 'block', blockSize: 32, iters: 20, lpNorm: 0.7, beta: 10, kappa: 1.01 }));
    const ref = new Float32Array(2 * N);
    for (let m = 0; m < 2; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) ref[m * N + n] = ref[m * N + n]! + x[m * K + k]! * d[n * K + k]!;
    expect(relError(ref, y)).toBeLessThan(1e-5);
  });
});
