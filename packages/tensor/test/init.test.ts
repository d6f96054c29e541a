import { expect, it } from 'vitest';
import { kaimingUniform, kaimingNormal, xavierUniform, xavierNormal, calculateGain, computeFans, Rng, ShapeError, ArgumentError, type Tensor } from '@whittle/tensor/node';
import { describeBackends } from '@whittle/testing';

async function moments(t: Tensor): Promise<{ mean: number; variance: number; maxAbs: number }> {
  const v = await t.toFloat64();
  let s = 0;
  let s2 = 0;
  let maxAbs = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, variance: s2 / v.length - mean * mean, maxAbs };
}

describeBackends('initializers', ({ backend }) => {
  it('fans for Gemm [out,in] and conv [out,in/g,kh,kw]; gains as torch', () => {
    expect(computeFans([64, 32])).toEqual({ fanIn: 32, fanOut: 64 });
    expect(computeFans([16, 4, 3, 5])).toEqual({ fanIn: 60, fanOut: 240 });
    expect(() => computeFans([5])).toThrow(ShapeError);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / 1.0001), 15);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(() => calculateGain('swish' as 'relu')).toThrow(ArgumentError);
  });

  // 40,000 samples: the sample variance is within ~1.5 % (5 sigma ≈ 3.5 % for normals) of the truth
  const cases: [string, () => Tensor, number, number | null][] = [
    ['kaimingUniform fanIn relu, conv weight', () => kaimingUniform([100, 8, 5, 10], new Rng(1), { nonlinearity: 'relu' }), 2 / 400, Math.sqrt(6 / 400)],
    ['kaimingUniform fanOut leaky a=0.3, gemm weight', () => kaimingUniform([200, 200], new Rng(2), { mode: 'fanOut', a: 0.3 }), 2 / 1.09 / 200, Math.sqrt(2 / 1.09 / 200) * Math.sqrt(3)],
    ['kaimingNormal default (leaky a=0 → relu gain)', () => kaimingNormal([400, 100], new Rng(3)), 2 / 100, null],
    ['kaimingNormal fanOut conv', () => kaimingNormal([10, 40, 10, 10], new Rng(4), { mode: 'fanOut', nonlinearity: 'tanh' }), (25 / 9) / 1000, null],
    ['xavierUniform gemm', () => xavierUniform([300, 134], new Rng(5)), 2 / 434, Math.sqrt(6 / 434)],
    ['xavierNormal conv with gain', () => xavierNormal([20, 20, 10, 10], new Rng(6), { gain: 2 }), (4 * 2) / 4000, null],
  ];
  for (const [name, make, variance, bound] of cases) {
    it(`${name}: empirical variance matches the formula`, async () => {
      const t = make();
      expect(t.backend).toBe(backend);
      expect(t.dtype).toBe('float32');
      const m = await moments(t);
      expect(Math.abs(m.mean)).toBeLessThan(5 * Math.sqrt(variance / t.size));
      expect(Math.abs(m.variance / variance - 1)).toBeLessThan(0.035);
      if (bound !== null) {
        expect(m.maxAbs).toBeLessThanOrEqual(bound);
        expect(m.maxAbs).toBeGreaterThan(0.99 * bound);
      }
    });
  }

  it('same seed gives identical weights; explicit fans override the shape', async () => {
    const a = await kaimingUniform([7, 3], new Rng(9)).toFloat64();
    const b = await kaimingUniform([7, 3], new Rng(9)).toFloat64();
    expect(Array.from(a)).toEqual(Array.from(b));
    const c = await moments(xavierNormal([3, 10000], new Rng(10), { fans: { fanIn: 50, fanOut: 150 } }));
    expect(Math.abs(c.variance / (2 / 200) - 1)).toBeLessThan(0.05);
  });
});
