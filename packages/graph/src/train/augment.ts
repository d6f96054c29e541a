import { ArgumentError, type Rng } from '@whittle/tensor';

/**
 * An in-place batch augmentation: `x` holds `count` samples of `sampleShape`, row-major; draw
 * randomness only from `rng` so training stays reproducible.
 */
export type Augment = (x: Float32Array, count: number, sampleShape: readonly number[], rng: Rng) => void;

/**
 * Random translation of images by up to `maxShift` pixels in each direction (zero fill), the
 * classic MNIST augmentation. Works on samples shaped [..., H, W]; every channel of a sample
 * moves together.
 */
export function randomShift(maxShift: number): Augment {
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new ArgumentError(`randomShift: maxShift must be a non-negative integer, got ${maxShift}`);
  return (x, count, sampleShape, rng) => {
    if (sampleShape.length < 2) throw new ArgumentError(`randomShift: samples must be images [..., H, W], got [${sampleShape.join(',')}]`);
    const H = sampleShape[sampleShape.length - 2]!;
    const W = sampleShape[sampleShape.length - 1]!;
    const planes = sampleShape.slice(0, -2).reduce((p, d) => p * d, 1);
    const plane = new Float32Array(H * W);
    for (let s = 0; s < count; s++) {
      const dy = Math.floor(rng.uniform() * (2 * maxShift + 1)) - maxShift;
      const dx = Math.floor(rng.uniform() * (2 * maxShift + 1)) - maxShift;
      if (dx === 0 && dy === 0) continue;
      for (let p = 0; p < planes; p++) {
        const base = (s * planes + p) * H * W;
        plane.set(x.subarray(base, base + H * W));
        x.fill(0, base, base + H * W);
        for (let i = Math.max(0, dy); i < Math.min(H, H + dy); i++) {
          const src = (i - dy) * W;
          for (let j = Math.max(0, dx); j < Math.min(W, W + dx); j++) x[base + i * W + j] = plane[src + j - dx]!;
        }
      }
    }
  };
}
