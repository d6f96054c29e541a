import { type Rng, type Tensor, kaimingUniform, zeros } from '@whittle/tensor';
import type { Model } from '../ir/types.js';
import { GraphBuilder } from './graph_builder.js';

/** Options of {@link mlpTemplate}. */
export interface MlpSpec {
  /** Layer widths from input to output, e.g. [784, 300, 100, 10] (LeNet-300-100). */
  layers: readonly number[];
  /** Hidden activation (default 'Relu'). */
  activation?: 'Relu' | 'Tanh' | 'Sigmoid' | 'Gelu';
  /** Input name (default 'input') and output name (default 'logits'). */
  inputName?: string;
  outputName?: string;
  /** Reshape an image input [N, C, H, W] to [N, layers[0]] first (default false). */
  flattenInput?: readonly number[];
  name?: string;
}

/**
 * A multilayer perceptron as an ONNX graph: Gemm (transB) + activation per hidden layer,
 * Kaiming-uniform weights (ReLU gain) and zero biases from `rng`.
 */
export function mlpTemplate(spec: MlpSpec, rng: Rng): Model {
  const { layers } = spec;
  const b = new GraphBuilder(spec.name ?? `mlp_${layers.join('_')}`);
  let x = b.input(spec.inputName ?? 'input', 'float32', spec.flattenInput ? ['N', ...spec.flattenInput] : ['N', layers[0]!]);
  if (spec.flattenInput) x = b.node('Flatten', [x], { axis: 1 }, { name: 'flatten' });
  for (let i = 1; i < layers.length; i++) {
    const w = b.initializer(`fc${i}.weight`, weight([layers[i]!, layers[i - 1]!], rng));
    const bias = b.initializer(`fc${i}.bias`, zeros([layers[i]!], 'float32', { backend: 'cpu' }));
    x = b.node('Gemm', [x, w, bias], { transB: 1 }, { name: `fc${i}` });
    if (i < layers.length - 1) x = b.node(spec.activation ?? 'Relu', [x], {}, { name: `act${i}` });
  }
  const out = b.node('Identity', [x], {}, { name: 'output', outputNames: [spec.outputName ?? 'logits'] });
  b.output(out, 'float32', ['N', layers[layers.length - 1]!]);
  return b.model();
}

/** Options of {@link convNetTemplate}. */
export interface ConvNetSpec {
  /** Input [C, H, W], e.g. [1, 28, 28]. */
  input: readonly [number, number, number];
  /** Conv stages: filters and square kernel; each is Conv(valid) → Relu? → MaxPool 2x2. */
  convs: readonly { filters: number; kernel: number; relu?: boolean }[];
  /** Hidden fully connected widths (ReLU), then the classifier width. */
  fc: readonly number[];
  inputName?: string;
  outputName?: string;
  name?: string;
}

/**
 * A small convolutional network: conv stages (valid padding, optional ReLU, 2x2 max-pool), then
 * Flatten and Gemm layers. `convNetTemplate(LENET5, rng)` is LeNet-5 (Caffe's variant: conv
 * 20@5x5, pool, conv 50@5x5, pool, fc 500, fc 10).
 */
export function convNetTemplate(spec: ConvNetSpec, rng: Rng): Model {
  const b = new GraphBuilder(spec.name ?? 'convnet');
  let [c, h, w] = spec.input;
  let x = b.input(spec.inputName ?? 'input', 'float32', ['N', c, h, w]);
  spec.convs.forEach((s, i) => {
    const wt = b.initializer(`conv${i + 1}.weight`, weight([s.filters, c, s.kernel, s.kernel], rng));
    const bias = b.initializer(`conv${i + 1}.bias`, zeros([s.filters], 'float32', { backend: 'cpu' }));
    x = b.node('Conv', [x, wt, bias], { kernel_shape: [s.kernel, s.kernel], strides: [1, 1], pads: [0, 0, 0, 0] }, { name: `conv${i + 1}` });
    if (s.relu ?? true) x = b.node('Relu', [x], {}, { name: `relu${i + 1}` });
    x = b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `pool${i + 1}` });
    c = s.filters;
    h = Math.floor((h - s.kernel + 1) / 2);
    w = Math.floor((w - s.kernel + 1) / 2);
  });
  x = b.node('Flatten', [x], { axis: 1 }, { name: 'flatten' });
  let width = c * h * w;
  spec.fc.forEach((n, i) => {
    const wt = b.initializer(`fc${i + 1}.weight`, weight([n, width], rng));
    const bias = b.initializer(`fc${i + 1}.bias`, zeros([n], 'float32', { backend: 'cpu' }));
    x = b.node('Gemm', [x, wt, bias], { transB: 1 }, { name: `fc${i + 1}` });
    if (i < spec.fc.length - 1) x = b.node('Relu', [x], {}, { name: `fc_relu${i + 1}` });
    width = n;
  });
  const out = b.node('Identity', [x], {}, { name: 'output', outputNames: [spec.outputName ?? 'logits'] });
  b.output(out, 'float32', ['N', width]);
  return b.model();
}

/** LeNet-300-100 for 28x28 digits. */
export const LENET_300_100: MlpSpec = { layers: [784, 300, 100, 10], flattenInput: [1, 28, 28], name: 'lenet_300_100' };

/** LeNet-5 (Caffe variant) for 28x28 digits. */
export const LENET5: ConvNetSpec = {
  input: [1, 28, 28],
  convs: [
    { filters: 20, kernel: 5, relu: false },
    { filters: 50, kernel: 5, relu: false },
  ],
  fc: [500, 10],
  name: 'lenet5',
};

function weight(shape: number[], rng: Rng): Tensor {
  return kaimingUniform(shape, rng, { nonlinearity: 'relu', backend: 'cpu' });
}
