import { describe, expect, it } from 'vitest';
import { ArgumentError, Rng } from '@whittle/tensor';
import { accuracy, accuracyFromScores, argmax, argmaxRows } from '../src/index.js';

describe('argmax / accuracy', () => {
  it('argmax picks the first maximum and ignores NaN', () => {
    expect(argmax([1, 3, 2, 3])).toBe(1);
    expect(argmax([NaN, -5, -1])).toBe(2);
    expect(argmax([0, 9, 1, 7, 8], 2, 3)).toBe(2);
    expect(argmax([0, 9, 8, 7, 1], 1, 3)).toBe(0);
    expect(() => argmax([])).toThrow(ArgumentError);
  });

  it('argmaxRows matches a per-row reference on random scores', () => {
    const rng = new Rng(7);
    const rows = 37;
    const k = 11;
    const scores = Float32Array.from({ length: rows * k }, () => rng.uniform() * 2 - 1);
    const got = argmaxRows(scores, k);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(scores.subarray(r * k, r * k + k));
      expect(got[r]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(() => argmaxRows(scores, 10)).toThrow(/not a whole number of rows of 10 classes/);
  });

  it('accuracy counts matches and refuses mismatched lengths', () => {
    expect(accuracy([1, 2, 3, 4], [1, 0, 3, 0])).toBe(0.5);
    expect(accuracyFromScores([0.1, 0.9, 0.8, 0.2, 0.3, 0.7], [1, 0, 0], 2)).toBeCloseTo(2 / 3, 12);
    expect(() => accuracy([1, 2], [1])).toThrow(/2 predictions for 1 labels/);
    expect(() => accuracy([], [])).toThrow(ArgumentError);
  });
});
