import { describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { quantizeDynamicPass } from '../src/dynamic.js';
import { GraphBuilder } from '@whittle/graph';
import { ortSaturatesU8S8 } from '@whittle/testing';
import { mixedFeeds, mixedModel, ortRun, randTensor, randomArray, relError } from './helpers.js';

function convModel() {
  const rng = new Rng(5);
  const b = new GraphBuilder('conv');
  const x = b.input('x', 'float32', ['N', 3, 12, 12]);
  let h = b.node('Conv', [x, b.initializer('cw', randTensor([8, 3, 3, 3], rng, 0.3)), b.initializer('cb', randTensor([8], rng, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1' });
  h = b.node('Relu', [h]);
  h = b.node('Flatten', [h], { axis: 1 });
  h = b.node('Gemm', [h, b.initializer('fw', randTensor([10, 8 * 144], rng, 0.05)), b.initializer('fb', randTensor([10], rng, 0.1))], { transB: 1 }, { name: 'fc' });
  b.output(h, 'float32', ['N', 10]);
  return b.model([{ domain: '', version: 17 }]);
}

describe('quantize-dynamic', () => {
  for (const [weightType, perChannel] of [['int8', false], ['int8', true], ['uint8', false], ['uint8', true]] as const) {
    it(`MatMul/Gemm ${weightType} perChannel=${perChannel} runs in onnxruntime`, async () => {
      const model = mixedModel();
      const feeds = mixedFeeds(32);
      const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
      // int8 weights at full range saturate in onnxruntime on x86 without VNNI: 7 bits there
      const reduceRange = weightType === 'int8' && (await ortSaturatesU8S8());
      const { model: q } = await runPass(quantizeDynamicPass, model, { weightType, perChannel, reduceRange });
      expect(q.graph.nodes.filter((n) => n.opType === 'MatMulInteger').length).toBe(3);
      const err = relError(ref, (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!);
      console.log('dynamic', weightType, perChannel, err);
      expect(err).toBeLessThan(0.05);
    });
  }
  it('Conv via ConvInteger runs in onnxruntime', async () => {
    const model = convModel();
    const feeds = { x: { data: randomArray(4 * 3 * 144, new Rng(9)), dims: [4, 3, 12, 12] } };
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const { model: q, report } = await runPass(quantizeDynamicPass, model, {});
    expect(q.graph.nodes.map((n) => n.opType)).toContain('ConvInteger');
    const err = relError(ref, (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!);
    expect(err).toBeLessThan(0.05);
    expect(report.stats!.ratio).toBeLessThan(0.3);
  });
});
