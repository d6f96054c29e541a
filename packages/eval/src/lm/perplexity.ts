/** Sliding-window perplexity of a decoder on a token stream. Browser-safe. */
import { PerplexityAccumulator, type PerplexityResult } from '../tasks/perplexity.js';
import { forwardLogits } from './generate.js';
import type { DecoderIo } from './io.js';
import type { DecoderSession } from './session.js';
import { slidingWindows } from './windows.js';

/** {@link PerplexityResult} with the windowing it was measured with. */
export interface SlidingPerplexityResult extends PerplexityResult {
  window: number;
  stride: number;
  windows: number;
}

/**
 * Perplexity of `tokens` in windows of `window` tokens every `stride` tokens, each window run
 * from an empty past and scoring only its new tokens (Hugging Face's recipe), accumulated by
 * {@link PerplexityAccumulator}: the logits are cut to the positions that predict new tokens.
 */
export async function slidingPerplexity(s: DecoderSession, io: DecoderIo, tokens: readonly number[], window: number, stride: number, what = 'decoder'): Promise<SlidingPerplexityResult> {
  const wins = slidingWindows(tokens.length, window, stride);
  const acc = new PerplexityAccumulator();
  for (const w of wins) {
    const ids = tokens.slice(w.begin, w.end);
    const { data, vocab } = await forwardLogits(s, io, ids, what);
    // position t predicts t + 1: positions scoreFrom−1 … end−2 predict the new tokens
    const from = w.scoreFrom - 1;
    const n = ids.length - from;
    acc.add(data.subarray(from * vocab, ids.length * vocab), [1, n, vocab], ids.slice(from));
  }
  return { ...acc.result(), window, stride, windows: wins.length };
}
