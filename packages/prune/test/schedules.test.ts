import { ArgumentError } from '@whittle/tensor';
import { describe, expect, it } from 'vitest';
import { constantSparsity, polynomialDecay } from '../src/index.js';

describe('pruning schedules (TF-MOT semantics)', () => {
  it('polynomialDecay: s(t) = final + (initial - final)(1 - p)^3, updates every `frequency` steps and at endStep', () => {
    const s = polynomialDecay({ initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 10, endStep: 110, frequency: 25 });
    // hand-computed: p = 0 → 0.1; p = 0.5 → 0.9 - 0.8·0.125 = 0.8; p = 1 → 0.9; clipped outside
    expect(s.sparsity(10)).toBeCloseTo(0.1, 12);
    expect(s.sparsity(60)).toBeCloseTo(0.8, 12);
    expect(s.sparsity(110)).toBeCloseTo(0.9, 12);
    expect(s.sparsity(0)).toBeCloseTo(0.1, 12);
    expect(s.sparsity(500)).toBeCloseTo(0.9, 12);
    const steps = Array.from({ length: 200 }, (_, i) => i).filter((i) => s.shouldPrune(i));
    expect(steps).toEqual([10, 35, 60, 85, 110]);
  });

  it('constantSparsity: the target from beginStep every `frequency` steps until endStep', () => {
    const s = constantSparsity({ targetSparsity: 0.75, beginStep: 3, endStep: 13, frequency: 5 });
    expect(s.sparsity(1)).toBe(0.75);
    expect(Array.from({ length: 30 }, (_, i) => i).filter((i) => s.shouldPrune(i))).toEqual([3, 8, 13]);
    const open = constantSparsity({ targetSparsity: 0.5, frequency: 10 });
    expect(open.shouldPrune(1000)).toBe(true);
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => polynomialDecay({ initialSparsity: 0, finalSparsity: 1, beginStep: 0, endStep: 10 })).toThrow(ArgumentError);
    expect(() => polynomialDecay({ initialSparsity: 0, finalSparsity: 0.5, beginStep: 10, endStep: 10 })).toThrow(/endStep/);
    expect(() => constantSparsity({ targetSparsity: 0.5, frequency: 0 })).toThrow(/frequency/);
  });
});
