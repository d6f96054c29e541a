/**
 * Language-model perplexity from logits [B, T, V] and the input token ids [B, T]: position t
 * predicts token t + 1; positions whose target is padding (attention mask 0) are left out.
 */
import { ArgumentError } from '@whittle/tensor';

/** What {@link PerplexityAccumulator.result} returns. */
export interface PerplexityResult {
  /** Predicted tokens counted. */
  tokens: number;
  /** Mean negative log-likelihood per token (nats). */
  meanNll: number;
  /** exp(meanNll). */
  perplexity: number;
  /** Fraction of positions whose highest logit is the next token. */
  nextTokenAccuracy: number;
}

/** Accumulates next-token negative log-likelihood over batches (float64 sums). */
export class PerplexityAccumulator {
  private nll = 0;
  private tokens = 0;
  private correct = 0;

  /**
   * Add one batch: `logits` row-major [B, T, V], `ids` [B, T], `mask` [B, T] (1 = real token) or
   * undefined for all tokens. Only the last T positions of a longer mask are used (a decoder's mask
   * spans past + current tokens).
   */
  add(logits: ArrayLike<number>, dims: readonly number[], ids: ArrayLike<number | bigint>, mask?: ArrayLike<number | bigint>): this {
    if (dims.length !== 3) throw new ArgumentError(`PerplexityAccumulator.add: logits must be [batch, sequence, vocab], got [${dims.join(', ')}]; pick the logits output (--output)`);
    const [B, T, V] = dims as [number, number, number];
    if (logits.length !== B * T * V) throw new ArgumentError(`PerplexityAccumulator.add: ${logits.length} logits do not fill [${dims.join(', ')}]`);
    if (ids.length !== B * T) throw new ArgumentError(`PerplexityAccumulator.add: ${ids.length} token ids for logits [${dims.join(', ')}]; the logits must cover every input token`);
    const mT = mask ? mask.length / B : T;
    if (mask && (!Number.isInteger(mT) || mT < T)) throw new ArgumentError(`PerplexityAccumulator.add: a mask of ${mask.length} values does not cover [${B}, ${T}]`);
    const on = (b: number, t: number): boolean => !mask || Number(mask[b * mT + (mT - T) + t]!) !== 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t + 1 < T; t++) {
        if (!on(b, t) || !on(b, t + 1)) continue;
        const target = Number(ids[b * T + t + 1]!);
        if (!Number.isInteger(target) || target < 0 || target >= V) throw new ArgumentError(`PerplexityAccumulator.add: token id ${target} (row ${b}, position ${t + 1}) is outside the vocabulary of ${V}`);
        const o = (b * T + t) * V;
        let max = -Infinity;
        let arg = 0;
        for (let v = 0; v < V; v++) {
          const x = logits[o + v]!;
          if (x > max) [max, arg] = [x, v];
        }
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
        this.nll += Math.log(sum) + max - logits[o + target]!;
        this.tokens++;
        if (arg === target) this.correct++;
      }
    }
    return this;
  }

  result(): PerplexityResult {
    if (this.tokens === 0) throw new ArgumentError('PerplexityAccumulator: no tokens were predicted (every window shorter than 2 real tokens?)');
    const meanNll = this.nll / this.tokens;
    return { tokens: this.tokens, meanNll, perplexity: Math.exp(meanNll), nextTokenAccuracy: this.correct / this.tokens };
  }
}
