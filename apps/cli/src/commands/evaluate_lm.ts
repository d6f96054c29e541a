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
