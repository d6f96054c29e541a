import { GraphBuilder, type Model } from '@whittle/graph';
import { type Rng, randn, t } from './helpers.js';

/** Conv(8→4, 3x3 pad 1) → Relu → Flatten → Gemm(transB, 144→16) → Relu → MatMul(16→12) → Add. */
export function smallNet(rng: Rng, cin = 8): Model {
  const b = new GraphBuilder('small');
  const x = b.input('input', 'float32', ['N', cin, 6, 6]);
  let h = b.node('Conv', [x, b.initializer('conv.weight', t(randn(rng, 4 * cin * 9, 0.3), [4, cin, 3, 3])), b.initializer('conv.bias', t(randn(rng, 4, 0.1), [4]))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' });
  h = b.node('Relu', [h], {}, { name: 'relu1' });
  h = b.node('Flatten', [h], { axis: 1 }, { name: 'flatten' });
  h = b.node('Gemm', [h, b.initializer('fc.weight', t(randn(rng, 16 * 144, 0.1), [16, 144])), b.initializer('fc.bias', t(randn(rng, 16, 0.1), [16]))], { transB: 1 }, { name: 'fc' });
  h = b.node('Relu', [h], {}, { name: 'relu2' });
  h = b.node('MatMul', [h, b.initializer('mm.weight', t(randn(rng, 16 * 12, 0.3), [16, 12]))], {}, { name: 'mm' });
  h = b.node('Add', [h, b.initializer('mm.bias', t(randn(rng, 12, 0.1), [12]))], {}, { name: 'mm_add' });
  b.output(h, 'float32', ['N', 12]);
  return b.model();
}

export const LAYERS = [
  { node: 'conv', weight: 'conv.weight', rows: 4, cols: 72, at: (r: number, c: number) => r * 72 + c },
  { node: 'fc', weight: 'fc.weight', rows: 16, cols: 144, at: (r: number, c: number) => r * 144 + c },
  { node: 'mm', weight: 'mm.weight', rows: 12, cols: 16, at: (r: number, c: number) => c * 12 + r },
] as const;
