/** Classification from labels: top-1 and top-k accuracy of [N, classes] scores. */
import { ArgumentError } from '@whittle/tensor';

/**
 * Midpoint of a single-score classifier's outputs (one sigmoid or logit per sample): 0.5 when
 * every value is a probability in [0, 1], else 0 (logits). Class 1 lies above it.
 */
export function scoreMidpoint(scores: ArrayLike<number>): number {
  for (let i = 0; i < scores.length; i++) if (!(scores[i]! >= 0 && scores[i]! <= 1)) return 0;
  return 0.5;
}

/** What {@link TopKAccumulator.result} returns. */
export interface TopKResult {
  /** Samples scored. */
  count: number;
  /** Fraction whose highest score is the label. */
  top1: number;
  /** Fraction whose label is among the `k` highest scores (k = min(5, classes) by default). */
  topK: number;
  k: number;
}

/** Rank of `values[start + label]` among `values[start, start + n)`: how many scores beat it (ties with a lower index count as beating). */
function rankOf(values: ArrayLike<number>, start: number, n: number, label: number): number {
  const v = values[start + label]!;
  if (Number.isNaN(v)) return n;
  let above = 0;
  for (let j = 0; j < n; j++) {
    const x = values[start + j]!;
    if (x > v || (x === v && j < label)) above++;
  }
  return above;
}

/** Accumulates top-1 / top-k accuracy over batches of row-major [rows, classes] scores and one label per row. */
export class TopKAccumulator {
  private n = 0;
  private hit1 = 0;
  private hitK = 0;
  private kUsed = 0;

  constructor(private readonly k = 5) {
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`TopKAccumulator: k must be a positive integer, got ${k}`);
  }

  /** Add scores of `labels.length` rows of `classes` values each. */
  add(scores: ArrayLike<number>, classes: number, labels: ArrayLike<number>): this {
    if (!Number.isInteger(classes) || classes < 1) throw new ArgumentError(`TopKAccumulator.add: classes must be a positive integer, got ${classes}`);
    if (scores.length !== labels.length * classes) throw new ArgumentError(`TopKAccumulator.add: ${scores.length} scores for ${labels.length} labels are not one row of ${classes} classes per label; classification needs [N, classes] outputs`);
    const k = Math.min(this.k, classes);
    this.kUsed = Math.max(this.kUsed, k);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= classes) throw new ArgumentError(`TopKAccumulator.add: label ${y} of row ${this.n + i} is not a class index in [0, ${classes})`);
      const r = rankOf(scores, i * classes, classes, y);
      if (r === 0) this.hit1++;
      if (r < k) this.hitK++;
    }
    this.n += labels.length;
    return this;
  }

  result(): TopKResult {
    if (this.n === 0) throw new ArgumentError('TopKAccumulator: no samples were added');
    return { count: this.n, top1: this.hit1 / this.n, topK: this.hitK / this.n, k: this.kUsed };
  }
}
