import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, runPass, summarize } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { mnistData, zooModel } from '@whittle/testing/zoo';
import '../src/index.js';

const opsOf = (m: Model): Set<string> => new Set(Object.keys(summarize(m).ops));

describe('FLOPs estimate of quantized models: the same multiply-adds as the float model', () => {
  it('LeNet-300-100 and LeNet-5 after dynamic int8, static QOperator and 4-bit MatMulNBits', async () => {
    const data = await mnistData();
    for (const name of ['lenet300100', 'lenet5'] as const) {
      const { model } = await zooModel(name);
      async function* calibration(): AsyncGenerator<Feeds> {
        yield { [model.graph.inputs[0]!.name]: tensor(data.train.images.slice(0, 32 * 784), [32, 1, 28, 28]) };
      }
      const float = summarize(model, { dims: { N: 4 } });
      expect(float.macs, name).toBeGreaterThan(0);
      const variants: [string, Model, string[]][] = [
        ['dynamic', (await runPass('quantize-dynamic', model, {})).model, name === 'lenet5' ? ['ConvInteger', 'MatMulInteger'] : ['MatMulInteger']],
        ['qoperator', (await runPass('quantize-static', model, { format: 'qoperator' }, { calibration: calibration() })).model, name === 'lenet5' ? ['QLinearConv', 'QLinearMatMul'] : ['QLinearMatMul']],
        ['matmulnbits', (await runPass('quantize-weights', model, { bits: 4, granularity: 'block', blockSize: 32, format: 'matmulnbits' })).model, ['com.microsoft:MatMulNBits']],
      ];
      for (const [kind, q, ops] of variants) {
        const have = opsOf(q);
        for (const op of ops) expect(have.has(op), `${name} ${kind}: ${op} in ${[...have].join(', ')}`).toBe(true);
        const s = summarize(q, { dims: { N: 4 } });
        expect(s.macs, `${name} ${kind}`).toBe(float.macs);
        // FLOPs: 2 per multiply-add plus the bias adds an op fuses; a bias moved into an elementwise Add is not counted
        expect(s.flops, `${name} ${kind}`).toBeLessThanOrEqual(float.flops);
        expect(s.flops, `${name} ${kind}`).toBeGreaterThanOrEqual(2 * float.macs);
      }
    }
  }, 120_000);
});
