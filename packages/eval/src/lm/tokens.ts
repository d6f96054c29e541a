/** The token stream of a text data source (its windows' real tokens, joined). Browser-safe. */
import type { DataSource } from '../data/source.js';
import { EvaluationError } from '../errors.js';

/**
 * Join the token ids of every sample of `source` (positions whose attention mask is 0 left out)
 * into one stream, up to `max` tokens. A text source's windows (stride = window, the default)
 * join back into the tokenized text.
 */
export async function tokenStream(source: DataSource, max = Infinity): Promise<number[]> {
  const out: number[] = [];
  for await (const c of source.chunks()) {
    const idsName = Object.keys(c.inputs).find((k) => /(^|[_.])input_ids$/.test(k));
    if (!idsName) throw new EvaluationError(`the LM evaluation reads token ids; ${source.description} has no input_ids (inputs: ${Object.keys(c.inputs).join(', ')})`);
    const ids = c.inputs[idsName]!;
    const mask = Object.entries(c.inputs).find(([k]) => /attention_mask$/.test(k))?.[1];
    const n = ids.data.length;
    for (let i = 0; i < n && out.length < max; i++) {
      if (mask && Number(mask.data[i]) === 0) continue;
      out.push(Number(ids.data[i]));
    }
    if (out.length >= max) break;
  }
  if (!out.length) throw new EvaluationError(`${source.description} holds no tokens`);
  return out;
}
