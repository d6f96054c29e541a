import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Feeds } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { collectInputNorms } from '../src/activations.js';
import { findPrunableWeights } from '../src/layers.js';

const onnxruntime = ortActivationRuntime(ort as unknown as OrtModuleLike);

function rand(n: number, rng: Rng, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

/** Conv (padded, strided, grouped) -> Relu -> GlobalAveragePool -> Flatten -> Gemm. */
function cnn() {
  const rng = new Rng(7);
  const b = new GraphBuilder('cnn');
  const x = b.input('x', 'float32', ['N', 4, 9, 9]);
  const w = (name: string, shape: number[]) => b.initializer(name, tensor(rand(shape.reduce((p, q) => p * q, 1), rng, 0.3), shape, 'float32', { backend: 'cpu' }));
  let h = b.node('Conv', [x, w('c1.w', [8, 4, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'c1' });
  h = b.node('Relu', [h]);
  h = b.node('Conv', [h, w('c2.w', [8, 4, 3, 3])], { kernel_shape: [3, 3], pads: [0, 0, 0, 0], group: 2 }, { name: 'c2' });
  h = b.node('GlobalAveragePool', [h]);
  h = b.node('Flatten', [h], { axis: 1 });
  h = b.node('Gemm', [h, w('fc.w', [5, 8])], { transB: 1 }, { name: 'fc' });
  b.output(h, 'float32', ['N', 5]);
  return b.model([{ domain: '', version: 17 }]);
}

function batches(n: number): { batches(): Iterable<Feeds> } {
  return {
    *batches() {
      const rng = new Rng(11);
      for (let i = 0; i < n; i++) yield { x: tensor(rand(3 * 4 * 81, rng, 1), [3, 4, 9, 9], 'float32', { backend: 'cpu' }) };
    },
  };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * scale);
}

describe('Wanda input norms on onnxruntime vs the interpreter', () => {
  it('Wanda input norms (Conv im2col and Gemm) agree', async () => {
    const m = cnn();
    const weights = findPrunableWeights(m);
    const a = await collectInputNorms(m, weights, batches(2), { calibrationRuntime: 'interpreter' });
    const b = await collectInputNorms(m, weights, batches(2), { activationRuntime: onnxruntime });
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) {
      expect(b.get(k)!.count).toBe(v.count);
      expectClose(v.sq, b.get(k)!.sq, 1e-4);
    }
  });

});
