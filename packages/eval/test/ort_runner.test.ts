import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, tensor } from '@whittle/tensor';
import type { Model } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { writeModelFile } from '@whittle/onnx/node';
import { createOrtRunner, evaluateAccuracyOrt, loadMnist } from '../src/node.js';

/** Flatten → MatMul(W [784,10]) → Add(b): a linear classifier on [N,1,28,28]. */
function linearModel(w: Float32Array, b: Float32Array): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    metadataProps: {},
    graph: {
      name: 'linear',
      nodes: [
        { name: 'flat', opType: 'Flatten', domain: '', inputs: ['image'], outputs: ['x'], attributes: new Map([['axis', { type: 'int', value: 1 }]]) },
        { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['xw'], attributes: new Map() },
        { name: 'bias', opType: 'Add', domain: '', inputs: ['xw', 'b'], outputs: ['logits'], attributes: new Map() },
      ],
      inputs: [{ name: 'image', type: { kind: 'tensor', elemType: 'float32', shape: ['N', 1, 28, 28] } }],
      outputs: [{ name: 'logits', type: { kind: 'tensor', elemType: 'float32', shape: ['N', 10] } }],
      valueInfo: new Map(),
      initializers: new Map([
        ['W', tensor(w, [784, 10], 'float32', { backend: 'cpu' })],
        ['b', tensor(b, [10], 'float32', { backend: 'cpu' })],
      ]),
      rawInitializers: new Map(),
    },
  };
}

/** Class-mean template classifier: W[:, c] = mean train image of class c minus the overall mean. */
function templates(images: Float32Array, labels: Int32Array): { w: Float32Array; b: Float32Array } {
  const sums = new Float64Array(784 * 10);
  const counts = new Float64Array(10);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    counts[c]!++;
    for (let p = 0; p < 784; p++) sums[p * 10 + c]! += images[i * 784 + p]!;
  }
  const w = new Float32Array(784 * 10);
  const b = new Float32Array(10);
  for (let c = 0; c < 10; c++) {
    let norm = 0;
    for (let p = 0; p < 784; p++) {
      const m = sums[p * 10 + c]! / counts[c]!;
      w[p * 10 + c] = m;
      norm += m * m;
    }
    b[c] = -0.5 * norm; // nearest class mean: argmax x·m_c − |m_c|²/2
  }
  return { w, b };
}

describe('onnxruntime-node runner', () => {
  it('run() returns float32 outputs equal to a float64 reference', async () => {
    const rng = new Rng(3);
    const w = Float32Array.from({ length: 7840 }, () => rng.uniform(-0.1, 0.1));
    const b = Float32Array.from({ length: 10 }, () => rng.uniform(-1, 1));
    const x = Float32Array.from({ length: 3 * 784 }, () => rng.uniform());
    const runner = await createOrtRunner(writeModel(linearModel(w, b)), { intraOpNumThreads: 1 });
    expect(runner.inputNames).toEqual(['image']);
    expect(runner.inputShapes.get('image')).toEqual(['N', 1, 28, 28]);
    const out = await runner.run({ image: { data: x, dims: [3, 1, 28, 28] } });
    expect(out['logits']!.dims).toEqual([3, 10]);
    expect(out['logits']!.data).toBeInstanceOf(Float32Array);
    for (let n = 0; n < 3; n++) {
      for (let c = 0; c < 10; c++) {
        let ref = b[c]!;
        for (let p = 0; p < 784; p++) ref += x[n * 784 + p]! * w[p * 10 + c]!;
        expect(Math.abs(out['logits']!.data[n * 10 + c]! - ref)).toBeLessThan(1e-4);
      }
    }
    await runner.release();
  });

  it('evaluateAccuracyOrt on MNIST matches a JS evaluation of the same classifier (bytes, Model and path)', async () => {
    const { train, test } = await loadMnist();
    const { w, b } = templates(train.images, train.labels);
    const model = linearModel(w, b);
    // reference predictions in float64
    let refCorrect = 0;
    const refPred = new Int32Array(test.count);
    for (let i = 0; i < test.count; i++) {
      let best = -Infinity;
      for (let c = 0; c < 10; c++) {
        let s = b[c]!;
        for (let p = 0; p < 784; p++) s += test.images[i * 784 + p]! * w[p * 10 + c]!;
        if (s > best) {
          best = s;
          refPred[i] = c;
        }
      }
      if (refPred[i] === test.labels[i]) refCorrect++;
    }
    const res = await evaluateAccuracyOrt(writeModel(model), test.images, test.labels, { batchSize: 500, intraOpNumThreads: 1 });
    expect(res.total).toBe(2004);
    let agree = 0;
    for (let i = 0; i < test.count; i++) if (res.predictions[i] === refPred[i]) agree++;
    expect(agree).toBeGreaterThanOrEqual(test.count - 2); // float32 vs float64 near-ties only
    expect(Math.abs(res.correct - refCorrect)).toBeLessThanOrEqual(2);
    expect(res.accuracy).toBeGreaterThan(0.75); // nearest class mean on MNIST is ≈ 0.8
    const fromModel = await evaluateAccuracyOrt(model, test.images.subarray(0, 100 * 784), test.labels.subarray(0, 100), { batchSize: 33 });
    expect(Array.from(fromModel.predictions)).toEqual(Array.from(res.predictions.subarray(0, 100)));
    const dir = mkdtempSync(join(tmpdir(), 'whittle-eval-'));
    await writeModelFile(model, join(dir, 'm.onnx'), { externalData: { location: 'm.onnx.data' } });
    const fromPath = await evaluateAccuracyOrt(join(dir, 'm.onnx'), test.images.subarray(0, 100 * 784), test.labels.subarray(0, 100), { batchSize: 64 });
    expect(Array.from(fromPath.predictions)).toEqual(Array.from(res.predictions.subarray(0, 100)));
    await expect(evaluateAccuracyOrt(model, test.images, test.labels.subarray(0, 5))).rejects.toThrow(/not a whole number of images/);
    await expect(evaluateAccuracyOrt(model, test.images.subarray(0, 784), test.labels.subarray(0, 1), { inputName: 'nope' })).rejects.toThrow(/input 'nope' not in the model/);
  });
});
