import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { loadMnist, splitMnist, mnistTrainCount, type DigitSamples } from '../src/index.js';

describe('MNIST loader', () => {
  it('standard split: per digit first 80 % train, last 20 % test (7,996 / 2,004)', async () => {
    const data = await loadMnist();
    expect(data.train.count).toBe(7996);
    expect(data.test.count).toBe(2004);
    expect(data.train.count + data.test.count).toBe(10000);
    expect(data.train.shape).toEqual([7996, 1, 28, 28]);
    expect(data.train.images.length).toBe(7996 * 784);
    expect(data.test.labels.length).toBe(2004);
    // Independent check against the package's own raw arrays.
    const raw = createRequire(import.meta.url)('mnist') as { raw: number[]; length: number }[];
    let trainAt = 0;
    let testAt = 0;
    for (let d = 0; d < 10; d++) {
      const n = raw[d]!.raw.length / 784;
      const cut = Math.floor(n * 0.8);
      const trainLabels = data.train.labels.subarray(trainAt, trainAt + cut);
      const testLabels = data.test.labels.subarray(testAt, testAt + n - cut);
      expect(trainLabels.every((l) => l === d)).toBe(true);
      expect(testLabels.every((l) => l === d)).toBe(true);
      // first train image of d is its sample 0; first test image is sample `cut`; last test image is sample n - 1
      expect(Array.from(data.train.images.subarray(trainAt * 784, trainAt * 784 + 784))).toEqual(raw[d]!.raw.slice(0, 784).map(Math.fround));
      expect(Array.from(data.test.images.subarray(testAt * 784, testAt * 784 + 784))).toEqual(raw[d]!.raw.slice(cut * 784, cut * 784 + 784).map(Math.fround));
      const last = testAt + n - cut - 1;
      expect(Array.from(data.test.images.subarray(last * 784, last * 784 + 784))).toEqual(raw[d]!.raw.slice((n - 1) * 784, n * 784).map(Math.fround));
      trainAt += cut;
      testAt += n - cut;
    }
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.test.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });

  it('flat layout and the split on synthetic data', () => {
    const digits: DigitSamples[] = Array.from({ length: 10 }, (_, d) => {
      const n = 5 + d; // 5..14 samples
      return { length: n, raw: Float32Array.from({ length: n * 784 }, (_, i) => d * 1000 + Math.floor(i / 784)) };
    });
    const s = splitMnist(digits, { layout: 'flat' });
    const trainCounts = digits.map((d) => mnistTrainCount(d.length));
    expect(trainCounts).toEqual([4, 4, 5, 6, 7, 8, 8, 9, 10, 11]);
    expect(s.train.shape).toEqual([72, 784]);
    expect(s.test.count).toBe(95 - 72);
    // sample index encoded in the pixel value: train holds 0..cut-1, test cut..n-1 of every digit
    const trainIds = Array.from({ length: s.train.count }, (_, i) => s.train.images[i * 784]!);
    expect(trainIds.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(trainIds.slice(-11)).toEqual(Array.from({ length: 11 }, (_, i) => 9000 + i));
    const testIds = Array.from({ length: s.test.count }, (_, i) => s.test.images[i * 784]!);
    expect(testIds.slice(0, 1)).toEqual([4]);
    expect(testIds.slice(-3)).toEqual([9011, 9012, 9013]);
    expect(() => splitMnist(digits.slice(0, 9))).toThrow(/10 digits/);
    expect(() => splitMnist([{ length: 2, raw: new Float32Array(784) }, ...digits.slice(1)])).toThrow(/claims 2 images/);
  });
});
