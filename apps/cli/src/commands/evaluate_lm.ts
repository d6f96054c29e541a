/**
 * `whittle evaluate --task lm` on decoders with a KV cache: sliding-window perplexity, greedy
 * generation agreement with the first model and tokens/s (prefill, decode) with the cache, all
 * from @whittle/eval's LM evaluation, written into the variants' metrics.
 */
import type { Model } from '@whittle/graph';
import { type DataSource, type LmEvaluationSettings, type OrtDecoder, type VariantResult, evaluateDecoders, isCachedDecoder, lmMetrics, openOrtDecoder, tokenStream } from '@whittle/eval/node';
import { UsageError } from '../errors.js';
import { userPath } from '../model_io.js';

/** LM flags of `whittle evaluate`. */
export interface LmFlags {
  window?: number | undefined;
  stride?: number | undefined;
  prompts?: number | undefined;
  promptLength?: number | undefined;
  genTokens?: number | undefined;
  textUnit?: string | undefined;
}

/** Whether `--task lm` runs the KV-cache evaluation on this (baseline) model. */
export function usesLmEvaluation(model: Model): boolean {
  return isCachedDecoder(model.graph.inputs.map((i) => i.name));
}

/**
 * Why `--task lm` measured only teacher-forced perplexity on this model: the KV-cache evaluation
 * (sliding windows, greedy generation, tokens/s) runs decoder-only models with
 * `past_key_values.N.key/value` inputs; names the flags that went unused.
 */
export function lmEvaluationSkipped(model: Model, o: LmFlags): string {
  const cache = model.graph.inputs.map((i) => i.name).filter((n) => /^past_key_values\./.test(n));
  const unused = (['window', 'stride', 'prompts', 'promptLength', 'genTokens'] as const).filter((k) => o[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  const why = cache.length
    ? `its cache inputs are named ${cache.slice(0, 2).join(', ')}${cache.length > 2 ? ', …' : ''} (an encoder-decoder's decoder, whose prompts need the encoder's states)`
    : 'it has no past_key_values inputs';
  return `the KV-cache evaluation (sliding-window perplexity, greedy generation against the baseline, tokens/s) runs decoder-only models with past_key_values.N.key/value inputs; ${why}: measured teacher-forced perplexity over the data's windows only${unused.length ? `; ${unused.join(', ')} not used` : ''}`;
}

/** Tokens per window of the data (the first sample's input_ids length). */
async function dataWindow(source: DataSource): Promise<number | undefined> {
  for await (const c of source.chunks()) {
    const ids = Object.entries(c.inputs).find(([k]) => /(^|[_.])input_ids$/.test(k))?.[1];
    return ids ? ids.shape[ids.shape.length - 1] : undefined;
  }
  return undefined;
}

/**
 * Run the LM evaluation on every model (paths as given, the first the original) and merge its
 * metrics into `variants` (the window perplexity of the generic lm task is replaced by the
 * sliding-window one; with the default window = the data's windows and stride = window they
 * score the same tokens). Returns the settings for the report.
 */
export async function evaluateLmVariants(paths: readonly string[], variants: VariantResult[], source: DataSource, f: LmFlags, speed: boolean): Promise<LmEvaluationSettings> {
  const tokens = await tokenStream(source);
  const window = f.window ?? Math.min((await dataWindow(source)) ?? 128, tokens.length);
  if (window < 2) throw new UsageError(`--window must be at least 2 tokens, got ${window}`);
  const promptLength = Math.min(f.promptLength ?? 16, Math.max(1, tokens.length - 1));
  const sessions: OrtDecoder[] = [];
  try {
    for (const p of paths) sessions.push(await openOrtDecoder(userPath(p)));
    const r = await evaluateDecoders(
      sessions.map((session, i) => ({ name: variants[i]!.name, session })),
      tokens,
      { window, stride: f.stride ?? window, prompts: f.prompts ?? 8, promptLength, newTokens: f.genTokens ?? 16, speed },
    );
    r.models.forEach((m, i) => (variants[i]!.metrics = { ...variants[i]!.metrics, ...lmMetrics(m) }));
    return r.settings;
  } finally {
    for (const s of sessions) await s.release();
  }
}
