import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { poolOutputSize } from '@whittle/tensor';
import { expectMatchesOrt, oneNode, randn, runOrt, type OneNode } from './interpreter_harness.js';
import { runModel } from '../src/interpreter/run.js';
import { inferValueTypes } from '../src/analysis/shape/infer.js';

/**
 * Pooling over inputs shorter than the window (what a CNN's last stages see on small images:
 * a PaddleOCR classifier pools [N, 200, 1, 8] with a 2x2 stride-2 MaxPool). ONNX Runtime counts
 * windows with a division truncated toward zero, not the spec's floor: a window that runs off
 * the end by less than a stride still gives an output (clipped to the input), by less than two
 * strides the output is empty. Whittle must give the same shapes and values.
 */
const pool = (op: string, shape: number[], attrs: NonNullable<OneNode['attrs']>, seed: number, outputs: OneNode['outputs'] = ['float32'], opset = 12): [string, OneNode] => [
  `${op} opset ${opset} [${shape.join(',')}] ${JSON.stringify(attrs)}`,
  { op, feeds: { x: randn(shape, seed) }, inputs: ['x'], attrs, outputs, opset },
];

const cases: [string, OneNode][] = [
  // the classifier's MaxPool: height 1 under a 2x2 stride-2 window → one (clipped) row
  pool('MaxPool', [2, 5, 1, 8], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, 1),
  pool('MaxPool', [2, 5, 1, 8], { kernel_shape: [2, 2], strides: [2, 2] }, 2, ['float32', 'int64']),
  pool('MaxPool', [1, 3, 2, 5], { kernel_shape: [4, 3], strides: [3, 2] }, 3, ['float32', 'int64']),
  pool('MaxPool', [1, 2, 1, 6], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, 4),
  pool('MaxPool', [1, 2, 2, 6], { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 1] }, 5, ['float32', 'int64']),
  pool('MaxPool', [1, 2, 1, 5], { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 0, 0] }, 6),
  // short by a stride or more (less than two): an empty output
  pool('MaxPool', [1, 2, 1, 6], { kernel_shape: [2, 2], strides: [1, 1] }, 7),
  pool('MaxPool', [1, 2, 1, 6], { kernel_shape: [4, 2], strides: [2, 2] }, 8, ['float32', 'int64']),
  pool('MaxPool', [1, 2, 7], { kernel_shape: [9], strides: [3] }, 9),
  pool('AveragePool', [2, 3, 1, 8], { kernel_shape: [2, 2], strides: [2, 2] }, 10),
  // count_include_pad divides by the whole kernel before opset 19, by the taps inside from 19
  pool('AveragePool', [2, 3, 1, 8], { kernel_shape: [2, 2], strides: [2, 2], count_include_pad: 1 }, 11),
  pool('AveragePool', [2, 3, 1, 8], { kernel_shape: [2, 2], strides: [2, 2], count_include_pad: 1 }, 11, ['float32'], 19),
  pool('AveragePool', [1, 2, 3, 5], { kernel_shape: [4, 2], strides: [3, 2], pads: [1, 0, 0, 1], count_include_pad: 1 }, 17),
  pool('AveragePool', [1, 2, 3, 5], { kernel_shape: [4, 2], strides: [3, 2], pads: [1, 0, 0, 1], count_include_pad: 1 }, 17, ['float32'], 19),
  pool('AveragePool', [1, 2, 2, 5], { kernel_shape: [3, 4], strides: [2, 3], pads: [0, 0, 1, 0], count_include_pad: 1 }, 12),
  pool('AveragePool', [1, 2, 1, 6], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1 }, 13),
  pool('LpPool', [1, 3, 1, 8], { kernel_shape: [2, 2], strides: [2, 2] }, 14),
  pool('LpPool', [1, 3, 2, 5], { kernel_shape: [3, 2], strides: [2, 2], p: 3 }, 15),
  pool('LpPool', [1, 2, 5, 6], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], ceil_mode: 1 }, 18, ['float32'], 18),
];

describeBackends('pooling windows longer than the input vs onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});

it('the shape rule and poolOutputSize give the sizes onnxruntime gives', async () => {
  for (const [name, spec] of cases) {
    const model = oneNode(spec);
    const [want] = await runOrt(model, spec.feeds);
    const attrs = spec.attrs as { kernel_shape: number[]; strides: number[]; pads?: number[]; dilations?: number[]; ceil_mode?: number };
    const x = spec.feeds.x!.shape;
    const n = x.length - 2;
    const sizes = attrs.kernel_shape.map((k, a) =>
      poolOutputSize(x[a + 2]!, attrs.pads?.[a] ?? 0, attrs.pads?.[a + n] ?? 0, k, attrs.strides[a]!, attrs.dilations?.[a] ?? 1, attrs.ceil_mode === 1),
    );
    expect(sizes, name).toEqual(want!.shape.slice(2));
    const inferred = inferValueTypes(model.graph, { opset: spec.opset!, strict: true }).types.get(model.graph.outputs[0]!.name);
    expect(inferred?.kind === 'tensor' ? inferred.shape : undefined, `inferred shape of ${name}`).toEqual(want!.shape);
  }
});

it('a window shorter than the input by two strides is a typed error, as onnxruntime fails', async () => {
  const spec = pool('MaxPool', [1, 2, 1, 6], { kernel_shape: [5, 2], strides: [2, 2] }, 16)[1];
  await expect(runOrt(oneNode(spec), spec.feeds)).rejects.toThrow();
  await expect(runModel(oneNode(spec), spec.feeds, { backend: 'cpu' })).rejects.toThrow(/padded to 1 is shorter than the dilated kernel extent 5 by twice the stride/);
});
