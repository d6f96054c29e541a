/** Classification metrics on plain arrays. */
import { ArgumentError } from '@whittle/tensor';

/** Index of the largest value in `values[start, start + length)` (first one on ties; NaN never wins). */
export function argmax(values: ArrayLike<number>, start = 0, length = values.length - start): number {
  if (length <= 0) throw new ArgumentError('argmax: empty range');
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = values[start + i]!;
    if (best < 0 || v > bestValue) {
      if (Number.isNaN(v)) continue;
      best = i;
      bestValue = v;
    }
  }
  return best < 0 ? 0 : best;
}

/** Row-wise argmax of a row-major [rows, numClasses] score matrix. */
export function argmaxRows(scores: ArrayLike<number>, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new ArgumentError(`argmaxRows: numClasses must be a positive integer, got ${numClasses}`);
  if (scores.length % numClasses !== 0) {
    throw new ArgumentError(`argmaxRows: ${scores.length} scores are not a whole number of rows of ${numClasses} classes`);
  }
  const rows = scores.length / numClasses;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = argmax(scores, r * numClasses, numClasses);
  return out;
}

/** Fraction of predictions equal to their labels, in [0, 1]. */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) {
    throw new ArgumentError(`accuracy: ${predictions.length} predictions for ${labels.length} labels; pass one prediction per label`);
  }
  if (labels.length === 0) throw new ArgumentError('accuracy: no labels given');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/** Accuracy of row-major [N, numClasses] scores (logits or probabilities) against N labels. */
export function accuracyFromScores(scores: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number {
  return accuracy(argmaxRows(scores, numClasses), labels);
}
