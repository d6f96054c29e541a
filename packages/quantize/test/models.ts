import type { Model } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { GraphBuilder } from '@whittle/graph';
import { randTensor, randomArray } from './helpers.js';

/** Random-init 2-layer transformer encoder: x [N, T, D] → [N, T, D]. */
export function transformerEncoder(seed = 3, D = 32, T = 8, layers = 2): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('encoder');
  let x = b.input('x', 'float32', ['N', T, D]);
  const s = 1 / Math.sqrt(D);
  const ones = () => tensor(new Float32Array(D).fill(1), [D], 'float32', { backend: 'cpu' });
  for (let l = 0; l < layers; l++) {
    const p = `l${l}.`;
    const ln1 = b.node('LayerNormalization', [x, b.initializer(p + 'ln1.g', ones()), b.initializer(p + 'ln1.b', randTensor([D], rng, 0.02))], { axis: -1 }, { name: p + 'ln1' });
    const q = b.node('MatMul', [ln1, b.initializer(p + 'wq', randTensor([D, D], rng, s))], {}, { name: p + 'q' });
    const k = b.node('MatMul', [ln1, b.initializer(p + 'wk', randTensor([D, D], rng, s))], {}, { name: p + 'k' });
    const v = b.node('MatMul', [ln1, b.initializer(p + 'wv', randTensor([D, D], rng, s))], {}, { name: p + 'v' });
    const kt = b.node('Transpose', [k], { perm: [0, 2, 1] }, { name: p + 'kt' });
    let a = b.node('MatMul', [q, kt], {}, { name: p + 'scores' });
    a = b.node('Mul', [a, b.initializer(p + 'scale', tensor([s], [], 'float32', { backend: 'cpu' }))], {}, { name: p + 'scaled' });
    a = b.node('Softmax', [a], { axis: -1 }, { name: p + 'softmax' });
    a = b.node('MatMul', [a, v], {}, { name: p + 'attn' });
    a = b.node('MatMul', [a, b.initializer(p + 'wo', randTensor([D, D], rng, s))], {}, { name: p + 'o' });
    x = b.node('Add', [x, a], {}, { name: p + 'res1' });
    const ln2 = b.node('LayerNormalization', [x, b.initializer(p + 'ln2.g', ones()), b.initializer(p + 'ln2.b', randTensor([D], rng, 0.02))], { axis: -1 }, { name: p + 'ln2' });
    let f = b.node('MatMul', [ln2, b.initializer(p + 'w1', randTensor([D, 4 * D], rng, s))], {}, { name: p + 'ff1' });
    f = b.node('Add', [f, b.initializer(p + 'b1', randTensor([4 * D], rng, 0.02))], {}, { name: p + 'ff1_bias' });
    f = b.node('Gelu', [f], {}, { name: p + 'gelu' });
    f = b.node('MatMul', [f, b.initializer(p + 'w2', randTensor([4 * D, D], rng, 1 / Math.sqrt(4 * D)))], {}, { name: p + 'ff2' });
    f = b.node('Add', [f, b.initializer(p + 'b2', randTensor([D], rng, 0.02))], {}, { name: p + 'ff2_bias' });
    x = b.node('Add', [x, f], {}, { name: p + 'res2' });
  }
  b.output(x, 'float32', ['N', T, D]);
  return b.model([{ domain: '', version: 21 }]);
}

/** Small ResNet-style CNN: x [N, 3, 16, 16] → logits [N, 10]. */
export function resnetCnn(seed = 4): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('resnet');
  const x = b.input('x', 'float32', ['N', 3, 16, 16]);
  const conv = (inp: string, name: string, cin: number, cout: number, stride = 1): string =>
    b.node('Conv', [inp, b.initializer(name + '.w', randTensor([cout, cin, 3, 3], rng, Math.sqrt(2 / (cin * 9)))), b.initializer(name + '.b', randTensor([cout], rng, 0.05))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] }, { name });
  let h = b.node('Relu', [conv(x, 'stem', 3, 8)]);
  for (const blk of ['block1', 'block2']) {
    const r = b.node('Relu', [conv(h, blk + '.conv1', 8, 8)]);
    const c2 = conv(r, blk + '.conv2', 8, 8);
    h = b.node('Relu', [b.node('Add', [c2, h], {}, { name: blk + '.add' })]);
  }
  h = b.node('Relu', [conv(h, 'down', 8, 16, 2)]);
  h = b.node('GlobalAveragePool', [h]);
  h = b.node('Flatten', [h], { axis: 1 });
  h = b.node('Gemm', [h, b.initializer('fc.w', randTensor([10, 16], rng, 0.3)), b.initializer('fc.b', randTensor([10], rng, 0.05))], { transB: 1 }, { name: 'fc' });
  b.output(h, 'float32', ['N', 10]);
  return b.model([{ domain: '', version: 17 }]);
}

export function encoderInput(n: number, seed: number, D = 32, T = 8) {
  return { data: randomArray(n * T * D, new Rng(seed)), dims: [n, T, D] };
}
export function imageInput(n: number, seed: number) {
  return { data: randomArray(n * 3 * 256, new Rng(seed)), dims: [n, 3, 16, 16] };
}
