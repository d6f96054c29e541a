import { type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';

/** Options of {@link tf2onnxConvNet}. */
export interface Tf2onnxConvNetOptions {
  /** Seed of the weights. */
  seed: number;
  /** Default opset import (default 13, what tf2onnx writes by default). */
  opset?: number;
}

function normal(rng: Rng, shape: number[], std: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return tensor(a, shape, 'float32', { backend: 'cpu' });
}

/**
 * What tf2onnx writes for a small Keras CNN (`input_1` NHWC [N, 16, 16, 3] → `dense_1` softmax
 * [N, 10]): a `Transpose` perm [0, 3, 1, 2] into NCHW before the first Conv and one perm
 * [0, 2, 3, 1] back before the flatten; Conv weights as OIHW initializers named
 * `model/conv2d/Conv2D/ReadVariableOp:0`, except the second Conv whose weight is the HWIO Keras
 * kernel behind a `Transpose` perm [3, 2, 0, 1] (tf2onnx leaves that when it does not fold);
 * Relu, LeakyRelu (alpha 0.2), MaxPool; `Reshape` with a constant int64 shape initializer
 * (`const_fold_opt__*`); dense layers as MatMul with [K, N] weights + Add of the bias; Softmax.
 * Node names follow the TF op names (`model/conv2d/Conv2D`, `model/dense/MatMul`, ...).
 */
export function tf2onnxConvNet(options: Tf2onnxConvNetOptions): Model {
  const { seed, opset = 13 } = options;
  const rng = new Rng(seed);
  const b = new GraphBuilder('tf2onnx');
  const x = b.input('input_1', 'float32', ['unk__18', 16, 16, 3]);
  const nchw = b.node('Transpose', [x], { perm: [0, 3, 1, 2] }, { name: 'model/conv2d/Conv2D__6' });
  // conv2d: 3 → 16, 3x3 SAME, weight already folded to OIHW
  const w1 = b.initializer('model/conv2d/Conv2D/ReadVariableOp:0', normal(rng, [16, 3, 3, 3], Math.sqrt(2 / 27)));
  const b1 = b.initializer('model/conv2d/BiasAdd/ReadVariableOp:0', normal(rng, [16], 0.05));
  let h = b.node('Conv', [nchw, w1, b1], { kernel_shape: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] }, { name: 'model/conv2d/Conv2D', outputNames: ['model/conv2d/BiasAdd:0'] });
  h = b.node('Relu', [h], {}, { name: 'model/conv2d/Relu', outputNames: ['model/conv2d/Relu:0'] });
  // conv2d_1: 16 → 32, 3x3 SAME, HWIO kernel behind a Transpose (not folded by the exporter)
  const k2 = b.initializer('model/conv2d_1/Conv2D/ReadVariableOp:0', normal(rng, [3, 3, 16, 32], Math.sqrt(2 / 144)));
  const w2 = b.node('Transpose', [k2], { perm: [3, 2, 0, 1] }, { name: 'model/conv2d_1/Conv2D__10', outputNames: ['model/conv2d_1/Conv2D__10:0'] });
  const b2 = b.initializer('model/conv2d_1/BiasAdd/ReadVariableOp:0', normal(rng, [32], 0.05));
  h = b.node('Conv', [h, w2, b2], { kernel_shape: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] }, { name: 'model/conv2d_1/Conv2D', outputNames: ['model/conv2d_1/BiasAdd:0'] });
  h = b.node('LeakyRelu', [h], { alpha: 0.2 }, { name: 'model/conv2d_1/LeakyRelu', outputNames: ['model/conv2d_1/LeakyRelu:0'] });
  h = b.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'model/max_pooling2d/MaxPool', outputNames: ['model/max_pooling2d/MaxPool:0'] });
  // conv2d_2: 32 → 32, 3x3 VALID, folded weight
  const w3 = b.initializer('model/conv2d_2/Conv2D/ReadVariableOp:0', normal(rng, [32, 32, 3, 3], Math.sqrt(2 / 288)));
  const b3 = b.initializer('model/conv2d_2/BiasAdd/ReadVariableOp:0', normal(rng, [32], 0.05));
  h = b.node('Conv', [h, w3, b3], { kernel_shape: [3, 3], strides: [1, 1], dilations: [1, 1], auto_pad: 'VALID' }, { name: 'model/conv2d_2/Conv2D', outputNames: ['model/conv2d_2/BiasAdd:0'] });
  h = b.node('Relu', [h], {}, { name: 'model/conv2d_2/Relu', outputNames: ['model/conv2d_2/Relu:0'] });
  h = b.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'model/max_pooling2d_1/MaxPool', outputNames: ['model/max_pooling2d_1/MaxPool:0'] });
  // back to NHWC, flatten with a constant shape ([N, 3, 3, 32] → [N, 288])
  h = b.node('Transpose', [h], { perm: [0, 2, 3, 1] }, { name: 'model/max_pooling2d_1/MaxPool__16', outputNames: ['model/max_pooling2d_1/MaxPool__16:0'] });
  const shape = b.initializer('const_fold_opt__20', tensor(BigInt64Array.from([-1n, 288n]), [2], 'int64', { backend: 'cpu' }));
  h = b.node('Reshape', [h, shape], {}, { name: 'model/flatten/Reshape', outputNames: ['model/flatten/Reshape:0'] });
  const wd = b.initializer('model/dense/MatMul/ReadVariableOp:0', normal(rng, [288, 64], Math.sqrt(2 / 288)));
  const bd = b.initializer('model/dense/BiasAdd/ReadVariableOp:0', normal(rng, [64], 0.05));
  h = b.node('MatMul', [h, wd], {}, { name: 'model/dense/MatMul', outputNames: ['model/dense/MatMul:0'] });
  h = b.node('Add', [h, bd], {}, { name: 'model/dense/BiasAdd', outputNames: ['model/dense/BiasAdd:0'] });
  h = b.node('Relu', [h], {}, { name: 'model/dense/Relu', outputNames: ['model/dense/Relu:0'] });
  const wo = b.initializer('model/dense_1/MatMul/ReadVariableOp:0', normal(rng, [64, 10], Math.sqrt(1 / 64)));
  const bo = b.initializer('model/dense_1/BiasAdd/ReadVariableOp:0', normal(rng, [10], 0.05));
  h = b.node('MatMul', [h, wo], {}, { name: 'model/dense_1/MatMul', outputNames: ['model/dense_1/MatMul:0'] });
  h = b.node('Add', [h, bo], {}, { name: 'model/dense_1/BiasAdd', outputNames: ['model/dense_1/BiasAdd:0'] });
  b.node('Softmax', [h], { axis: -1 }, { name: 'model/dense_1/Softmax', outputNames: ['dense_1'] });
  b.output('dense_1', 'float32', ['unk__19', 10]);
  return b.model([{ domain: '', version: opset }], { irVersion: 8, producerName: 'tf2onnx', producerVersion: '1.16.1 15c810' });
}
