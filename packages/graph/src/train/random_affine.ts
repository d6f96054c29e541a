import { ArgumentError } from '@whittle/tensor';
import { type Augment, randomShift } from './augment.js';

/** Ranges of {@link randomAffine}; each transform is drawn uniformly per sample. */
export interface RandomAffineOptions {
  /** Rotation in degrees, drawn from [-degrees, degrees] (default 0). */
  degrees?: number;
  /** Isotropic scale factor drawn from [1 - scale, 1 + scale] (default 0). */
  scale?: number;
  /** Translation in pixels along each axis, drawn from [-translate, translate] (default 0; fractional allowed). */
  translate?: number;
}

/**
 * Random rotation, scaling and translation of images about their centre, resampled bilinearly
 * with zero fill — small affine jitter of the kind that makes MNIST classifiers generalise
 * (and gives a distillation teacher new, slightly ambiguous inputs to label). Samples are
 * [..., H, W]; every channel of a sample moves together. Draws four numbers per sample from the
 * rng in a fixed order, so a seed gives the same batches.
 */
export function randomAffine(opts: RandomAffineOptions): Augment {
  const degrees = opts.degrees ?? 0;
  const scale = opts.scale ?? 0;
  const translate = opts.translate ?? 0;
  for (const [name, v, max] of [['degrees', degrees, 180], ['scale', scale, 0.99], ['translate', translate, Infinity]] as const) {
    if (!(v >= 0 && v <= max)) throw new ArgumentError(`randomAffine: ${name} must be in [0, ${max}], got ${v}`);
  }
  return (x, count, sampleShape, rng) => {
    if (sampleShape.length < 2) throw new ArgumentError(`randomAffine: samples must be images [..., H, W], got [${sampleShape.join(',')}]`);
    const H = sampleShape[sampleShape.length - 2]!;
    const W = sampleShape[sampleShape.length - 1]!;
    const planes = sampleShape.slice(0, -2).reduce((p, d) => p * d, 1);
    for (let s = 0; s < count; s++) {
      const t: AffineTransform = {
        degrees: (rng.uniform() * 2 - 1) * degrees,
        scale: 1 + (rng.uniform() * 2 - 1) * scale,
        translateY: (rng.uniform() * 2 - 1) * translate,
        translateX: (rng.uniform() * 2 - 1) * translate,
      };
      for (let p = 0; p < planes; p++) affineWarp(x.subarray((s * planes + p) * H * W, (s * planes + p + 1) * H * W), H, W, t);
    }
  };
}

/** Ranges of {@link imageJitter}: integer pixel shifts alone, or an affine jitter when rotate/scale are set. */
export interface ImageJitterOptions {
  /** Pixels (integer): the shift range, or with rotate/scale the translation range (default 0). */
  shift?: number;
  /** Degrees of random rotation (default 0). */
  rotate?: number;
  /** Random zoom fraction (default 0). */
  scale?: number;
}

/**
 * The image augmentation the passes, the CLI and the zoo recipes describe with shift/rotate/scale:
 * `randomAffine` when rotate or scale is set (shift as its translation range), otherwise
 * `randomShift(shift)`, or undefined when all are 0.
 */
export function imageJitter(o: ImageJitterOptions): Augment | undefined {
  const shift = o.shift ?? 0;
  if (o.rotate || o.scale) return randomAffine({ degrees: o.rotate ?? 0, scale: o.scale ?? 0, translate: shift });
  return shift ? randomShift(shift) : undefined;
}

/** One rotation (degrees; positive turns the image clockwise as displayed, rows downwards), scale and translation (pixels) about the image centre. */
export interface AffineTransform {
  degrees: number;
  scale: number;
  translateY: number;
  translateX: number;
}

/**
 * Apply `t` to one H×W plane in place, bilinear resampling with zero fill: output pixel p takes
 * the input at c + R(-angle)·(p - c - t) / scale, c the centre ((H-1)/2, (W-1)/2).
 */
export function affineWarp(plane: Float32Array, H: number, W: number, t: AffineTransform): void {
  if (plane.length !== H * W) throw new ArgumentError(`affineWarp: plane holds ${plane.length} values, not ${H}x${W}`);
  if (!(t.scale > 0)) throw new ArgumentError(`affineWarp: scale must be > 0, got ${t.scale}`);
  const src = plane.slice();
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const angle = (t.degrees * Math.PI) / 180;
  const cos = Math.cos(angle) / t.scale;
  const sin = Math.sin(angle) / t.scale;
  for (let i = 0; i < H; i++) {
    const dy = i - cy - t.translateY;
    for (let j = 0; j < W; j++) {
      const dx = j - cx - t.translateX;
      plane[i * W + j] = bilinear(src, H, W, cy + cos * dy - sin * dx, cx + sin * dy + cos * dx);
    }
  }
}

/** Bilinear sample of an H×W plane at (y, x); pixels outside the plane count as 0. */
function bilinear(plane: Float32Array, H: number, W: number, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const top = (1 - fx) * pixel(plane, H, W, y0, x0) + fx * pixel(plane, H, W, y0, x0 + 1);
  const bottom = (1 - fx) * pixel(plane, H, W, y0 + 1, x0) + fx * pixel(plane, H, W, y0 + 1, x0 + 1);
  return (1 - fy) * top + fy * bottom;
}

function pixel(plane: Float32Array, H: number, W: number, r: number, c: number): number {
  return r >= 0 && r < H && c >= 0 && c < W ? plane[r * W + c]! : 0;
}
