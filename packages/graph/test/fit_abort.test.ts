/**
 * fit() on the cpu backend gives the event loop a turn between batches (every ~100 ms), so an
 * abort requested by a timer — or by a message to a Web Worker — stops training mid-epoch.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { TrainingAbortedError, mlpTemplate, trainClassifier } from '../src/index.js';

describe('fit abort on cpu', () => {
  it('a timer-driven abort stops a long cpu training run mid-epoch', async () => {
    const rng = new Rng(1);
    const n = 4096;
    const x = Float32Array.from({ length: n * 256 }, () => rng.normal());
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * 10));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const t0 = performance.now();
    const run = trainClassifier(mlpTemplate({ layers: [256, 256, 10] }, new Rng(2)), { x, labels, sampleShape: [256], epochs: 200, signal: ac.signal, backend: 'cpu' });
    await expect(run).rejects.toThrow(TrainingAbortedError);
    // 200 epochs would take minutes; the abort lands within a few batches of the timer
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
