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

/** Draw from Beta(a, b) (a, b > 0) through two Gamma draws (Marsaglia–Tsang, boosted for shape < 1). */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  if (!(a > 0 && b > 0)) throw new ArgumentError(`sampleBeta: a and b must be > 0, got ${a}, ${b}`);
  if (a === 1 && b === 1) return rng.uniform();
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x + y > 0 ? x / (x + y) : rng.uniform() < a / (a + b) ? 1 : 0;
}

function sampleGamma(k: number, rng: Rng): number {
  if (k < 1) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    return sampleGamma(k + 1, rng) * u ** (1 / k);
  }
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = rng.normal();
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * z ** 4 || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** How {@link mixupBatch} mixed a batch: sample i became lambda[i]·x[i] + (1 − lambda[i])·x[partner[i]]. */
export interface MixupResult {
  /** Index (within the batch) of the sample each sample was mixed with: a random permutation. */
  partner: Int32Array;
  /** Weight of the sample's own content, drawn from Beta(alpha, alpha). */
  lambda: Float32Array;
}

/**
 * Mixup (Zhang et al. 2018) in place over a batch: pairs every sample with a partner from a random
 * permutation of the batch and replaces it with the convex combination
 * `lambda[i]·x[i] + (1 − lambda[i])·x[partner[i]]`, `lambda[i] ~ Beta(alpha, alpha)` (alpha 1:
 * uniform). Returns the pairing so the targets can be mixed the same way ({@link mixupTargets})
 * or, for distillation, recomputed by the teacher on the mixed images (function matching).
 */
export function mixupBatch(x: Float32Array, count: number, sampleShape: readonly number[], alpha: number, rng: Rng): MixupResult {
  if (!(alpha > 0)) throw new ArgumentError(`mixupBatch: alpha must be > 0, got ${alpha}`);
  const per = sampleShape.reduce((p, d) => p * d, 1);
  if (x.length !== count * per) throw new ArgumentError(`mixupBatch: ${x.length} values are not ${count} samples of shape [${sampleShape.join(',')}]`);
  const partner = new Int32Array(count).map((_, i) => i);
  rng.shuffle(partner);
  const lambda = new Float32Array(count);
  for (let i = 0; i < count; i++) lambda[i] = sampleBeta(alpha, alpha, rng);
  const src = x.slice();
  for (let i = 0; i < count; i++) {
    const l = lambda[i]!;
    const a = i * per;
    const b = partner[i]! * per;
    for (let k = 0; k < per; k++) x[a + k] = l * src[a + k]! + (1 - l) * src[b + k]!;
  }
  return { partner, lambda };
}

/** Mixed one-hot targets `[count, classes]` of a {@link mixupBatch}: lambda[i]·e(y[i]) + (1 − lambda[i])·e(y[partner[i]]). */
export function mixupTargets(labels: ArrayLike<number | bigint>, mix: MixupResult, classes: number): Float32Array {
  const n = mix.lambda.length;
  if (labels.length !== n) throw new ArgumentError(`mixupTargets: ${labels.length} labels for a batch of ${n}`);
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const a = Number(labels[i]!);
    const b = Number(labels[mix.partner[i]!]!);
    if (!(a >= 0 && a < classes && b >= 0 && b < classes)) throw new ArgumentError(`mixupTargets: label out of range [0, ${classes})`);
    out[i * classes + a] = out[i * classes + a]! + mix.lambda[i]!;
    out[i * classes + b] = out[i * classes + b]! + 1 - mix.lambda[i]!;
  }
  return out;
}
