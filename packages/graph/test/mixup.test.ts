import { describe, expect, it } from 'vitest';
import { ArgumentError, Rng, crossEntropy, tensor } from '@whittle/tensor';
import { MIXUP_SEED_OFFSET, arrayBatches, mixupBatch, mixupTargets, mlpTemplate, sampleBeta, trainClassifier } from '../src/index.js';

describe('mixup', () => {
  it('replaces each sample by the documented convex combination with its partner, reproducibly', () => {
    const N = 6, per = 5;
    const x = Float32Array.from({ length: N * per }, (_, i) => (i * 7) % 11);
    const orig = x.slice();
    const mix = mixupBatch(x, N, [per], 1, new Rng(4));
    // hand reference: the partner is Rng(4)'s shuffle of 0..N-1; Beta(1, 1) is the next N uniforms
    const ref = new Rng(4);
    const partner = ref.shuffle(Int32Array.from({ length: N }, (_, i) => i));
    const lambda = Array.from({ length: N }, () => ref.uniform());
    expect(Array.from(mix.partner)).toEqual(Array.from(partner));
    expect(Array.from(mix.lambda)).toEqual(lambda.map(Math.fround));
    for (let i = 0; i < N; i++) for (let k = 0; k < per; k++) {
      const want = lambda[i]! * orig[i * per + k]! + (1 - lambda[i]!) * orig[Number(partner[i]!) * per + k]!;
      expect(x[i * per + k]).toBeCloseTo(want, 5);
    }
    const y = orig.slice();
    mixupBatch(y, N, [per], 1, new Rng(4));
    expect(y).toEqual(x);
  });

  it('mixes the one-hot targets with the same pairs and weights', () => {
    const mix = { partner: Int32Array.from([1, 0, 2]), lambda: Float32Array.from([0.75, 0.25, 0.5]) };
    expect(Array.from(mixupTargets([2, 0, 1], mix, 3))).toEqual([0.25, 0, 0.75, 0.25, 0, 0.75, 0, 1, 0]);
  });

  it('draws Beta(a, a) weights with the right mean and variance', () => {
    const rng = new Rng(8);
    for (const [a, b] of [[0.4, 0.4], [2, 2], [1, 3]] as const) {
      const xs = Array.from({ length: 20000 }, () => sampleBeta(a, b, rng));
      const m = xs.reduce((s, v) => s + v, 0) / xs.length;
      const v = xs.reduce((s, u) => s + (u - m) ** 2, 0) / xs.length;
      expect(xs.every((u) => u >= 0 && u <= 1)).toBe(true);
      expect(m).toBeCloseTo(a / (a + b), 2);
      expect(v).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 2);
    }
    expect(() => sampleBeta(0, 1, rng)).toThrow(ArgumentError);
    expect(() => mixupBatch(new Float32Array(4), 2, [2], 0, rng)).toThrow(/alpha must be > 0/);
  });

  it('arrayBatches and trainClassifier mix after augmenting and train on the mixed labels', async () => {
    const x = Float32Array.from({ length: 8 * 4 }, (_, i) => i);
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]);
    const [b] = [...arrayBatches({ x, labels, sampleShape: [4], batchSize: 8, inputName: 'x', mixup: 1, mixupRng: new Rng(3) })];
    const plain = x.slice();
    const mix = mixupBatch(plain, 8, [4], 1, new Rng(3));
    expect(b!.inputs.x!.dataSync()).toEqual(plain);
    expect(b!.mix).toEqual(mix);
    expect(() => [...arrayBatches({ x, labels, sampleShape: [4], batchSize: 8, inputName: 'x', mixup: 1 })]).toThrow(/mixupRng/);
    // one full-batch SGD step from the same weights: identical to a step on crossEntropy with the mixed targets
    const model = () => mlpTemplate({ layers: [4, 3], inputName: 'x' }, new Rng(1));
    const opts = { x, labels, sampleShape: [4], epochs: 1, batchSize: 8, optimizer: 'sgd' as const, momentum: 0, lr: 0.1, seed: 2, mixup: 0.5 };
    const a = await trainClassifier(model(), opts);
    const mixed = x.slice();
    const order = new Rng(2).shuffle(Int32Array.from({ length: 8 }, (_, i) => i)) as Int32Array;
    const xb = new Float32Array(32);
    order.forEach((i, k) => xb.set(x.subarray(i * 4, i * 4 + 4), k * 4));
    mixed.set(xb);
    const m = mixupBatch(mixed, 8, [4], 0.5, new Rng(2 + MIXUP_SEED_OFFSET));
    const targets = tensor(mixupTargets(Array.from(order, (i) => labels[i]!), m, 3), [8, 3]);
    const w = model().graph.initializers;
    const W = tensor(w.get('fc1.weight')!.dataSync() as Float32Array, [3, 4]).requireGrad();
    const B = tensor(w.get('fc1.bias')!.dataSync() as Float32Array, [3]).requireGrad();
    const { matmul, transpose, add } = await import('@whittle/tensor');
    crossEntropy(add(matmul(tensor(mixed, [8, 4]), transpose(W, [1, 0])), B), targets).backward();
    const gotW = a.model.graph.initializers.get('fc1.weight')!.dataSync() as Float32Array;
    const w0 = W.dataSync() as Float32Array, g = W.grad!.dataSync() as Float32Array;
    for (let i = 0; i < 12; i++) expect(gotW[i]).toBeCloseTo(w0[i]! - 0.1 * g[i]!, 5);
  });
});
