/** Regression against targets: mean squared / absolute error (float64 sums). */
import { ArgumentError } from '@whittle/tensor';

/** What {@link RegressionAccumulator.result} returns. */
export interface RegressionResult {
  /** Values compared. */
  count: number;
  mse: number;
  mae: number;
  rmse: number;
  /** 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (NaN when the targets are constant). */
  r2: number;
}

/** Accumulates errors of predictions against targets over batches (same length, same order). */
export class RegressionAccumulator {
  private n = 0;
  private sq = 0;
  private abs = 0;
  private sy = 0;
  private syy = 0;

  add(predictions: ArrayLike<number>, targets: ArrayLike<number>): this {
    if (predictions.length !== targets.length) throw new ArgumentError(`RegressionAccumulator.add: ${predictions.length} predictions for ${targets.length} targets; the output and the targets must have the same shape`);
    for (let i = 0; i < targets.length; i++) {
      const y = targets[i]!;
      const e = predictions[i]! - y;
      this.sq += e * e;
      this.abs += Math.abs(e);
      this.sy += y;
      this.syy += y * y;
    }
    this.n += targets.length;
    return this;
  }

  result(): RegressionResult {
    if (this.n === 0) throw new ArgumentError('RegressionAccumulator: no values were added');
    const mse = this.sq / this.n;
    const ss = this.syy - (this.sy * this.sy) / this.n;
    return { count: this.n, mse, mae: this.abs / this.n, rmse: Math.sqrt(mse), r2: ss > 0 ? 1 - this.sq / ss : NaN };
  }
}
