import { describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { gptqPass } from '../src/gptq.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { mixedFeeds, mixedModel, ortRun, relError } from './helpers.js';

function calib(n: number) {
  return (async function* () {
    for (let i = 0; i < n; i++) {
      const f = mixedFeeds(64, 200 + i);
      // correlated inputs: x_j += x_{j-1}
      const x = f.x!.data as Float32Array;
      for (let r = 0; r < 64; r++) for (let j = 1; j < 100; j++) x[r * 100 + j] = x[r * 100 + j]! * 0.5 + x[r * 100 + j - 1]! * 0.8;
      yield { x: tensor(x, f.x!.dims, 'float32', { backend: 'cpu' }), ids: tensor(f.ids!.data as BigInt64Array, f.ids!.dims, 'int64', { backend: 'cpu' }) };
    }
  })();
}

describe('gptq', () => {
  const model = mixedModel();
  for (const [opts, label] of [
    [{ bits: 4 }, 'int4 block-32 qdq'],
    [{ bits: 4, format: 'matmulnbits', actOrder: true }, 'int4 act-order matmulnbits'],
    [{ bits: 3, symmetric: false, lazyBlock: 16 }, 'int3 asym lazy-16'],
    [{ bits: 4, granularity: 'per-channel' }, 'int4 per-channel'],
  ] as const) {
    it(`${label}: layer-output MSE below RTN on every layer; runs in onnxruntime`, async () => {
      const { model: q, report } = await runPass(gptqPass, model, opts, { calibration: calib(4) });
      const layers = report.details!.layers as { gptqOutputMse: number; rtnOutputMse: number; node: string }[];
      expect(layers.length).toBe(3);
      for (const l of layers) expect(l.gptqOutputMse).toBeLessThan(l.rtnOutputMse);
      console.log(label, layers.map((l) => `${l.node}: gptq ${l.gptqOutputMse.toExponential(3)} rtn ${l.rtnOutputMse.toExponential(3)}`).join('; '));
      const feeds = mixedFeeds(16);
      const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
      const out = (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!;
      expect(relError(ref, out)).toBeLessThan(0.4);
    });
  }
  it('requires calibration', async () => {
    await expect(runPass(gptqPass, model, {})).rejects.toThrow(/calibration/);
    void quantizeWeightsPass;
  });
});
