import { describe, expect, it } from 'vitest';
import { ArgumentError, Rng } from '@whittle/tensor';
import { affineWarp, imageJitter, randomAffine, randomShift } from '../src/index.js';

const H = 7, W = 7;
const ramp = (): Float32Array => Float32Array.from({ length: H * W }, (_, k) => (k % W) * 10 + Math.floor(k / W));
const identity = { degrees: 0, scale: 1, translateY: 0, translateX: 0 };

describe('affineWarp', () => {
  it('rotating by 90° about the centre moves pixel (H-1-j, i) to (i, j)', () => {
    const img = Float32Array.from({ length: H * W }, (_, k) => (k * 37) % 11);
    const out = img.slice();
    affineWarp(out, H, W, { ...identity, degrees: 90 });
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) expect(out[i * W + j]).toBeCloseTo(img[(H - 1 - j) * W + i]!, 4);
  });

  it('an integer translation is a shift with zero fill; a half-pixel one interpolates linearly', () => {
    const img = ramp();
    const out = img.slice();
    affineWarp(out, H, W, { ...identity, translateY: 2, translateX: -1 });
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      const si = i - 2, sj = j + 1;
      expect(out[i * W + j]).toBeCloseTo(si >= 0 && si < H && sj < W ? img[si * W + sj]! : 0, 5);
    }
    const half = img.slice();
    affineWarp(half, H, W, { ...identity, translateX: 0.5 });
    // ramp value at column j - 0.5 (inside the image): exactly midway between the two columns
    for (let i = 0; i < H; i++) for (let j = 1; j < W; j++) expect(half[i * W + j]).toBeCloseTo((j - 0.5) * 10 + i, 4);
    expect(half[0]).toBeCloseTo(0.5 * img[0]!, 5); // half of the pixel comes from outside (zero)
  });

  it('zooming in keeps a constant image constant; zooming out leaves a zero border', () => {
    const ones = new Float32Array(H * W).fill(1);
    affineWarp(ones, H, W, { ...identity, scale: 2 });
    expect(Array.from(ones).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    const small = new Float32Array(H * W).fill(1);
    affineWarp(small, H, W, { ...identity, scale: 0.5 });
    expect(small[0]).toBe(0);
    expect(small[3 * W + 3]).toBeCloseTo(1, 6); // the centre stays
  });

  it('rejects a wrong plane size or a non-positive scale', () => {
    expect(() => affineWarp(new Float32Array(5), 2, 2, identity)).toThrow(ArgumentError);
    expect(() => affineWarp(new Float32Array(4), 2, 2, { ...identity, scale: 0 })).toThrow(/scale/);
  });
});

describe('randomAffine', () => {
  it('with zero ranges is the identity; otherwise reproducible per seed, varied, all channels alike', () => {
    const N = 8, C = 2;
    const x = Float32Array.from({ length: N * C * H * W }, (_, k) => ((k * 7919) % 13) / 13);
    const same = x.slice();
    randomAffine({})(same, N, [C, H, W], new Rng(1));
    expect(same).toEqual(x);
    const run = (seed: number): Float32Array => {
      const y = x.slice();
      randomAffine({ degrees: 15, scale: 0.1, translate: 2 })(y, N, [C, H, W], new Rng(seed));
      return y;
    };
    const a = run(4);
    expect(run(4)).toEqual(a);
    expect(run(5)).not.toEqual(a);
    // channel 1 of a sample whose channel 1 is a copy of channel 0 stays a copy
    const twin = x.slice();
    for (let s = 0; s < N; s++) twin.copyWithin((s * C + 1) * H * W, s * C * H * W, (s * C + 1) * H * W);
    randomAffine({ degrees: 15, scale: 0.1, translate: 2 })(twin, N, [C, H, W], new Rng(4));
    for (let s = 0; s < N; s++) expect(twin.subarray((s * C + 1) * H * W, (s * C + 2) * H * W)).toEqual(twin.subarray(s * C * H * W, (s * C + 1) * H * W));
  });

  it('rejects bad ranges and non-image samples with typed errors', () => {
    expect(() => randomAffine({ degrees: -1 })).toThrow(ArgumentError);
    expect(() => randomAffine({ scale: 1 })).toThrow(/scale/);
    expect(() => randomAffine({ translate: Number.NaN })).toThrow(/translate/);
    expect(() => randomAffine({ degrees: 5 })(new Float32Array(4), 1, [4], new Rng(1))).toThrow(/images \[\.\.\., H, W\]/);
  });
});

describe('imageJitter', () => {
  it('is nothing for zero ranges, randomShift for shifts alone, randomAffine once rotate or scale is set', () => {
    expect(imageJitter({})).toBeUndefined();
    expect(imageJitter({ shift: 0, rotate: 0, scale: 0 })).toBeUndefined();
    const x = Float32Array.from({ length: 6 * H * W }, (_, k) => ((k * 31) % 17) / 17);
    const apply = (a: ReturnType<typeof imageJitter>) => {
      const y = x.slice();
      a!(y, 6, [1, H, W], new Rng(8));
      return y;
    };
    expect(apply(imageJitter({ shift: 2 }))).toEqual(apply(randomShift(2)));
    expect(apply(imageJitter({ shift: 2, rotate: 10 }))).toEqual(apply(randomAffine({ degrees: 10, translate: 2 })));
    expect(apply(imageJitter({ scale: 0.1 }))).toEqual(apply(randomAffine({ scale: 0.1 })));
  });
});
