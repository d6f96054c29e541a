import { describe, expect, it } from 'vitest';
import { NoCompressionError, PassManager, attr, createGraph, definePass, integerWeightLayers, tensorInfo } from '../src/index.js';
import type { Graph, Model } from '../src/index.js';
import { model, node, t } from './helpers.js';

/**
 * A dynamic-int8 model as onnxruntime's quantize_dynamic writes it (MatMulInteger on a uint8
 * weight), with one more in each branch of an If reading a main-graph weight, a DequantizeLinear
 * of a stored int8 weight (weight-only QDQ) and a DequantizeLinear of activations (not a layer).
 */
function quantized(): Model {
  const branch = (name: string): Graph => createGraph({
    name,
    nodes: [node('MatMulInteger', ['xq', 'wq', 'xz', 'wz'], [`y_${name}`])],
    outputs: [tensorInfo(`y_${name}`, 'int32', [1, 2])],
  });
  const m = model(
    [
      node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
      node('MatMulInteger', ['xq', 'wq', 'xz', 'wz'], ['y32']),
      node('If', ['c'], ['yi'], { then_branch: attr.graph(branch('then')), else_branch: attr.graph(branch('else')) }),
      node('DequantizeLinear', ['w8', 's8'], ['w']),
      node('MatMul', ['x', 'w'], ['y']),
      node('DequantizeLinear', ['xq', 'xs', 'xz'], ['xd']),
    ],
    { x: [1, 2], c: [1] },
    ['y32', 'yi', 'y', 'xd'],
    { wq: t([1, 2, 3, 4], [2, 2], 'uint8'), wz: t([0], [], 'uint8'), w8: t([1, -2, 3, -4], [2, 2], 'int8'), s8: t([0.5], []) },
  );
  return m;
}

describe('integerWeightLayers', () => {
  it('counts the layers holding integer weights in every scope, not DequantizeLinear of activations', () => {
    expect(integerWeightLayers(quantized())).toEqual({ MatMulInteger: 3, DequantizeLinear: 1 });
    expect(integerWeightLayers(model([node('MatMul', ['x', 'w'], ['y'])], { x: [1, 2] }, ['y'], { w: t([1, 2, 3, 4], [2, 2]) }))).toEqual({});
  });

  it('a run that compressed nothing on an already-quantized model says so', async () => {
    const noop = definePass({
      specificationVersion: 'v1',
      name: 'test-noop-quantized',
      description: 'changes nothing',
      async run(m) {
        return { model: m, report: { changed: false, summary: 'nothing', details: { reason: '0 float32 weights' } } };
      },
    });
    const e = await new PassManager({ requireCompression: true, frontEnd: false }).add(noop).run(quantized()).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(NoCompressionError);
    expect((e as NoCompressionError).message).toBe(
      'nothing compressed: no step changed the model (test-noop-quantized: 0 float32 weights); the model is already quantized: 4 layer(s) hold integer weights (3 MatMulInteger, 1 DequantizeLinear), which the passes do not compress again (run them on the float model)',
    );
    // the reason (what the passes found) stays as it was
    expect((e as NoCompressionError).reason).toBe('no step changed the model (test-noop-quantized: 0 float32 weights)');
  });
});
