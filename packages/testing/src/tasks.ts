/**
 * A small synthetic classification task for tests of passes that train: 4 classes on 20
 * standard-normal features, labelled by one fixed random linear map (the same for every split,
 * so `linearTask(n, 1)` and `linearTask(m, 2)` are train and test sets of one problem).
 */
import { Rng } from '@whittle/tensor';

export function linearTask(n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const fixed = new Rng(99);
  const proj = Float32Array.from({ length: 20 * 4 }, () => fixed.normal());
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * 20 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, (_, i) => {
    let best = 0;
    let bv = -Infinity;
    for (let k = 0; k < 4; k++) {
      let s = 0;
      for (let j = 0; j < 20; j++) s += x[i * 20 + j]! * proj[j * 4 + k]!;
      if (s > bv) [bv, best] = [s, k];
    }
    return best;
  });
  return { x, labels };
}

/** Fraction of predictions equal to the labels. */
export function accuracyOf(pred: Int32Array, labels: Int32Array): number {
  return pred.reduce((s, p, i) => s + (p === labels[i] ? 1 : 0), 0) / labels.length;
}
