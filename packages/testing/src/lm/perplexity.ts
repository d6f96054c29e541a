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
