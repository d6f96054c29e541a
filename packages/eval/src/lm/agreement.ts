/** Agreement of greedy generations of a compressed decoder with the original's. Browser-safe. */
import { EvaluationError } from '../errors.js';

/** How far greedy generations follow the original's. */
export interface GenerationAgreement {
  prompts: number;
  /** Tokens generated per prompt. */
  newTokens: number;
  /** Fraction of prompts whose `newTokens` generated tokens all equal the original's. */
  identicalFraction: number;
  /** Mean number of leading generated tokens equal to the original's. */
  meanAgreeingPrefix: number;
}

/** Compare generations prompt by prompt (`reference[i]` and `candidate[i]` follow the same prompt). */
export function generationAgreement(reference: readonly (readonly number[])[], candidate: readonly (readonly number[])[]): GenerationAgreement {
  if (!reference.length) throw new EvaluationError('generationAgreement: no generations to compare');
  if (reference.length !== candidate.length) throw new EvaluationError(`generationAgreement: ${reference.length} reference generations, ${candidate.length} candidate ones; generate from the same prompts`);
  const n = reference[0]!.length;
  let identical = 0;
  let prefix = 0;
  reference.forEach((r, i) => {
    const c = candidate[i]!;
    if (r.length !== n || c.length !== n) throw new EvaluationError(`generationAgreement: prompt ${i} has ${r.length} reference and ${c.length} candidate tokens, expected ${n}`);
    let k = 0;
    while (k < n && r[k] === c[k]) k++;
    prefix += k;
    if (k === n) identical++;
  });
  return { prompts: reference.length, newTokens: n, identicalFraction: identical / reference.length, meanAgreeingPrefix: prefix / reference.length };
}

/** `count` prompts of `length` tokens, evenly spaced over the token stream. */
export function lmPrompts(tokens: readonly number[], count: number, length: number): number[][] {
  if (!Number.isInteger(count) || count < 1) throw new EvaluationError(`prompt count must be a positive integer, got ${count}`);
  if (!Number.isInteger(length) || length < 1) throw new EvaluationError(`prompt length must be a positive integer, got ${length}`);
  if (tokens.length < length) throw new EvaluationError(`prompts of ${length} tokens need at least ${length} tokens of text, got ${tokens.length}`);
  const span = tokens.length - length;
  return Array.from({ length: count }, (_, i) => {
    const at = count === 1 ? 0 : Math.round((i * span) / (count - 1));
    return tokens.slice(at, at + length);
  });
}
