import { describe, expect, it } from 'vitest';
import { roundEven } from '../src/index.js';

describe('roundEven (ONNX QuantizeLinear rounding)', () => {
  it('rounds halves to the even neighbour and everything else to nearest', () => {
    const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2], [-3.5, -4], [2.4999999, 2], [2.5000001, 3], [-2.5000001, -3], [7, 7], [-7.2, -7], [1e9 + 0.5, 1e9]];
    for (const [x, want] of cases) expect(roundEven(x), String(x)).toBe(want);
  });
});
