import { type BackendName, type Rng, ArgumentError, tensor } from '@whittle/tensor';
import type { Batch } from './fit.js';
import { type Augment, mixupBatch } from './augment.js';

/** Options of {@link arrayBatches}. */
export interface ArrayBatchesOptions {
  /** Samples, row-major, `count * prod(sampleShape)` values. */
  x: Float32Array;
  /** Shape of one sample, e.g. [784] or [1, 28, 28]. */
  sampleShape: readonly number[];
  /** Integer labels (one per sample), exposed on the batch as `labels` (int64 tensor). */
  labels?: Int32Array | readonly number[];
  batchSize: number;
  /** Graph input name the samples feed. */
  inputName: string;
  /** Shuffle with this generator (one permutation per call). */
  rng?: Rng;
  /** Applied to each batch's copy of the samples (never to `x`); randomness from `augmentRng`. */
  augment?: Augment;
  /** Generator for `augment` (default: `rng`). */
  augmentRng?: Rng;
  /**
   * Mixup Beta(alpha, alpha) after `augment` (see {@link mixupBatch}); each batch then carries
   * `mix` (the pairing and weights) for mixing its targets. Randomness from `mixupRng`.
   */
  mixup?: number;
  mixupRng?: Rng;
  /** Keep a last partial batch (default true). */
  keepLast?: boolean;
  backend?: BackendName;
}

/**
 * Batches from in-memory arrays: `{ inputs: { [inputName]: x }, labels, indices }`. Call once per
 * epoch (a new shuffle each time when `rng` is given).
 */
export function* arrayBatches(opts: ArrayBatchesOptions): Generator<Batch> {
  const per = opts.sampleShape.reduce((p, d) => p * d, 1);
  const count = opts.x.length / per;
  if (!Number.isInteger(count)) throw new ArgumentError(`arrayBatches: ${opts.x.length} values are not a whole number of samples of shape [${opts.sampleShape.join(',')}]`);
  if (opts.labels && opts.labels.length !== count) throw new ArgumentError(`arrayBatches: ${opts.labels.length} labels for ${count} samples`);
  if (!(opts.batchSize >= 1)) throw new ArgumentError(`arrayBatches: batchSize must be >= 1, got ${opts.batchSize}`);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (opts.rng) opts.rng.shuffle(order);
  const backend = opts.backend ? { backend: opts.backend } : {};
  for (let start = 0; start < count; start += opts.batchSize) {
    const n = Math.min(opts.batchSize, count - start);
    if (n < opts.batchSize && opts.keepLast === false) break;
    const xb = new Float32Array(n * per);
    const yb = new BigInt64Array(n);
    const idx = order.subarray(start, start + n);
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      xb.set(opts.x.subarray(i * per, (i + 1) * per), k * per);
      if (opts.labels) yb[k] = BigInt(opts.labels[i]!);
    }
    if (opts.augment) {
      const r = opts.augmentRng ?? opts.rng;
      if (!r) throw new ArgumentError('arrayBatches: augment needs a random generator (rng or augmentRng)');
      opts.augment(xb, n, opts.sampleShape, r);
    }
    let mix: ReturnType<typeof mixupBatch> | undefined;
    if (opts.mixup) {
      if (!opts.mixupRng) throw new ArgumentError('arrayBatches: mixup needs a random generator (mixupRng)');
      mix = mixupBatch(xb, n, opts.sampleShape, opts.mixup, opts.mixupRng);
    }
    const batch: Batch = {
      inputs: { [opts.inputName]: tensor(xb, [n, ...opts.sampleShape], 'float32', backend) },
      indices: idx,
      ...(opts.labels ? { labels: tensor(yb, [n], 'int64', backend) } : {}),
      ...(mix ? { mix } : {}),
    };
    yield batch;
  }
}
