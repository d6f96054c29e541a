/**
 * Whittle's standard MNIST split (DESIGN.md) applied to the `mnist` package's per-digit arrays:
 * for each digit the first 80 % (floor) of its images train, the rest test. The build cannot
 * import @whittle/eval's TypeScript sources (Vite bundles its config without the source
 * condition), so the rule is restated here; the e2e test checks the shipped test split equals
 * `loadMnist().test` value for value.
 */

const PIXELS = 784;

/** A split as plain arrays (digit-major order, like `loadMnist`). */
export interface PlainSplit {
  images: Float32Array;
  labels: Int32Array;
}

function gather(raw: readonly ArrayLike<number>[], range: (n: number) => [number, number]): PlainSplit {
  const parts = raw.map((r, digit) => ({ r, digit, span: range(Math.floor(r.length / PIXELS)) }));
  const count = parts.reduce((s, p) => s + p.span[1] - p.span[0], 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const { r, digit, span } of parts) {
    for (let i = span[0]; i < span[1]; i++, at++) {
      for (let j = 0; j < PIXELS; j++) images[at * PIXELS + j] = r[i * PIXELS + j]!;
      labels[at] = digit;
    }
  }
  return { images, labels };
}

/** Reorder digit-major samples round-robin (0, 1, …, 9, 0, 1, …) so any prefix covers every digit. */
function interleave(s: PlainSplit, perDigit: number): PlainSplit {
  const images = new Float32Array(s.images.length);
  const labels = new Int32Array(s.labels.length);
  let at = 0;
  for (let i = 0; i < perDigit; i++) {
    for (let d = 0; d < 10; d++, at++) {
      const from = d * perDigit + i;
      images.set(s.images.subarray(from * PIXELS, (from + 1) * PIXELS), at * PIXELS);
      labels[at] = s.labels[from]!;
    }
  }
  return { images, labels };
}

/**
 * The test split (digit-major, as `loadMnist().test`) and the first `trainPerDigit` training
 * images of each digit, interleaved so the first calibration batches hold every digit.
 */
export function mnistSplits(raw: readonly ArrayLike<number>[], trainPerDigit: number): { test: PlainSplit; train: PlainSplit } {
  if (raw.length !== 10) throw new Error(`mnistSplits: expected 10 digits, got ${raw.length}`);
  const cut = (n: number): number => Math.floor(n * 0.8);
  if (raw.some((r) => cut(Math.floor(r.length / PIXELS)) < trainPerDigit)) throw new Error(`mnistSplits: a digit has fewer than ${trainPerDigit} training images`);
  return {
    test: gather(raw, (n) => [cut(n), n]),
    train: interleave(gather(raw, () => [0, trainPerDigit]), trainPerDigit),
  };
}
