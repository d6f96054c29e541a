import { ArgumentError } from '@whittle/tensor';

/**
 * Perplexity of `ids` under a unigram model of `trainIds` (token frequencies with add-one
 * smoothing over the vocabulary, so unseen tokens keep a probability): the baseline a language
 * model must beat.
 */
export function unigramPerplexity(trainIds: readonly number[], ids: readonly number[], vocab: number): number {
  if (!ids.length) throw new ArgumentError('unigramPerplexity: no tokens to score');
  const counts = new Float64Array(vocab);
  for (const id of trainIds) counts[id]! += 1;
  const total = trainIds.length + vocab;
  let nll = 0;
  for (const id of ids) nll -= Math.log((counts[id]! + 1) / total);
  return Math.exp(nll / ids.length);
}

/** Running next-token negative log-likelihood (nats) of logits rows against their targets. */
export class NllMeter {
  nll = 0;
  count = 0;

  /** Add positions `0..S-2` of `logits` [S, vocab] (row-major) predicting `tokens[1..S-1]`. */
  addRow(logits: Float32Array, tokens: readonly number[], vocab: number): void {
    for (let t = 0; t + 1 < tokens.length; t++) {
      const row = logits.subarray(t * vocab, (t + 1) * vocab);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - max);
      this.nll += Math.log(z) + max - row[tokens[t + 1]!]!;
      this.count++;
    }
  }

  perplexity(): number {
    return Math.exp(this.nll / Math.max(1, this.count));
  }
}
