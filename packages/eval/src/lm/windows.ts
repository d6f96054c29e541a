/**
 * Sliding windows for perplexity, as Hugging Face's perplexity recipe: windows of at most
 * `window` tokens start every `stride` tokens; each scores only the tokens the previous window
 * did not (the rest is context), so every token after the first is scored exactly once.
 * Browser-safe.
 */
import { EvaluationError } from '../errors.js';

/** One window: tokens [begin, end) run; positions from `scoreFrom` (window-relative) scored. */
export interface LmWindow {
  begin: number;
  end: number;
  /** First window position whose token is scored (≥ 1: the first token has no prediction). */
  scoreFrom: number;
}

/** The windows over `tokens` tokens (HF: `for begin in range(0, n, stride)`, stop at the end). */
export function slidingWindows(tokens: number, window: number, stride: number): LmWindow[] {
  if (!Number.isInteger(window) || window < 2) throw new EvaluationError(`perplexity window must be an integer of at least 2 tokens, got ${window}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > window) throw new EvaluationError(`perplexity stride must be an integer in [1, window = ${window}], got ${stride}`);
  if (tokens < 2) throw new EvaluationError(`perplexity needs at least 2 tokens of text, got ${tokens}`);
  const out: LmWindow[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < tokens; begin += stride) {
    const end = Math.min(begin + window, tokens);
    const target = end - prevEnd; // tokens new in this window
    out.push({ begin, end, scoreFrom: Math.max(1, end - begin - target) });
    prevEnd = end;
    if (end === tokens) break;
  }
  return out;
}
