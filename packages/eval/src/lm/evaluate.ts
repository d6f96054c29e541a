/**
 * The LM evaluation of an original decoder and its compressed variants on held-out text:
 * sliding-window perplexity, greedy-generation agreement with the first (original) decoder, and
 * tokens/s with the KV cache. Browser-safe: it drives {@link DecoderSession}s.
 */
import { EvaluationError } from '../errors.js';
import { type GenerationAgreement, generationAgreement, lmPrompts } from './agreement.js';
import { greedyGenerate } from './generate.js';
import { type DecoderIo, decoderIo } from './io.js';
import { type SlidingPerplexityResult, slidingPerplexity } from './perplexity.js';
import type { DecoderSession } from './session.js';
import { type DecoderSpeed, compareDecoderSpeed } from './speed.js';

/** Options of {@link evaluateDecoders}; every count has a small default. */
export interface LmEvaluationOptions {
  /** Perplexity window in tokens (default 128; at most the model's context). */
  window?: number;
  /** Perplexity stride (default window / 2). */
  stride?: number;
  /** Prompts for greedy generation, evenly spaced over the text (default 8). */
  prompts?: number;
  /** Tokens per prompt (default 16). */
  promptLength?: number;
  /** Greedy tokens generated per prompt (default 16). */
  newTokens?: number;
  /** Time tokens/s (default true); `rounds` timed generations of `newTokens` tokens per decoder. */
  speed?: boolean;
  speedRounds?: number;
  speedTokens?: number;
  /** Reports progress (model name, stage). */
  onProgress?: (name: string, stage: 'perplexity' | 'generation' | 'speed') => void;
}

/** What the LM evaluation measured for one decoder. */
export interface LmModelEvaluation {
  name: string;
  perplexity: SlidingPerplexityResult;
  /** The greedy tokens of every prompt. */
  generations: number[][];
  /** Against the first decoder (the first one's is against itself: 1 and newTokens). */
  agreement: GenerationAgreement;
  speed?: DecoderSpeed;
}

/** The settings an evaluation ran with, for reports. */
export interface LmEvaluationSettings {
  tokens: number;
  window: number;
  stride: number;
  prompts: number;
  promptLength: number;
  newTokens: number;
  speedRounds?: number;
  speedTokens?: number;
}

/** Settle the defaults of {@link LmEvaluationOptions}. */
export function lmSettings(tokens: number, o: LmEvaluationOptions = {}): LmEvaluationSettings {
  const window = o.window ?? Math.min(128, tokens);
  const s: LmEvaluationSettings = { tokens, window, stride: o.stride ?? Math.max(1, window >> 1), prompts: o.prompts ?? 8, promptLength: o.promptLength ?? 16, newTokens: o.newTokens ?? 16 };
  if (o.speed !== false) Object.assign(s, { speedRounds: o.speedRounds ?? 5, speedTokens: o.speedTokens ?? 32 });
  return s;
}

/**
 * Evaluate decoders on one token stream; the first is the original the others are compared
 * with. Decoders are checked up front (inputs found by name, the merged layout's
 * `use_cache_branch` included).
 */
export async function evaluateDecoders(decoders: readonly { name: string; session: DecoderSession }[], tokens: readonly number[], opts: LmEvaluationOptions = {}): Promise<{ settings: LmEvaluationSettings; models: LmModelEvaluation[] }> {
  if (!decoders.length) throw new EvaluationError('evaluateDecoders: no decoders given');
  const settings = lmSettings(tokens.length, opts);
  const ios: DecoderIo[] = decoders.map((d) => decoderIo(d.session, d.name));
  const prompts = lmPrompts(tokens, settings.prompts, settings.promptLength);
  const models: LmModelEvaluation[] = [];
  for (const [i, d] of decoders.entries()) {
    opts.onProgress?.(d.name, 'perplexity');
    const perplexity = await slidingPerplexity(d.session, ios[i]!, tokens, settings.window, settings.stride, d.name);
    opts.onProgress?.(d.name, 'generation');
    const generations: number[][] = [];
    for (const p of prompts) generations.push((await greedyGenerate(d.session, ios[i]!, p, settings.newTokens, { what: d.name })).tokens);
    const agreement = generationAgreement(models[0]?.generations ?? generations, generations);
    models.push({ name: d.name, perplexity, generations, agreement });
  }
  if (settings.speedRounds !== undefined) {
    opts.onProgress?.(decoders[0]!.name, 'speed');
    const speed = await compareDecoderSpeed(decoders.map((d, i) => ({ ...d, io: ios[i]! })), prompts[0]!, { rounds: settings.speedRounds, newTokens: settings.speedTokens ?? 32 });
    speed.forEach((s, i) => (models[i]!.speed = s));
  }
  return { settings, models };
}

/** One decoder's LM figures as named metrics (report and model-card rows). */
export function lmMetrics(m: LmModelEvaluation): Record<string, number> {
  const out: Record<string, number> = {
    perplexity: m.perplexity.perplexity,
    meanNll: m.perplexity.meanNll,
    nextTokenAccuracy: m.perplexity.nextTokenAccuracy,
    tokens: m.perplexity.tokens,
    [`greedyIdentical@${m.agreement.newTokens}`]: m.agreement.identicalFraction,
    greedyAgreeingPrefix: m.agreement.meanAgreeingPrefix,
  };
  if (m.speed) {
    Object.assign(out, {
      'prefillTokens/s': m.speed.prefillTokensPerSecond,
      'decodeTokens/s': m.speed.decodeTokensPerSecond,
      prefillSpeedVsBase: m.speed.prefillRatio,
      decodeSpeedVsBase: m.speed.decodeRatio,
    });
  }
  return out;
}

/** The settings in one line, for reports and model cards. */
export function lmSettingsLine(s: LmEvaluationSettings): string {
  const speed = s.speedRounds !== undefined ? `; tokens/s with the KV cache: prefill of a ${s.promptLength}-token prompt and ${(s.speedTokens ?? 0) - 1} single-token decode calls, medians over ${s.speedRounds} interleaved rounds` : '';
  return `perplexity over ${s.tokens} tokens in windows of ${s.window} every ${s.stride} (only new tokens scored); greedy generation of ${s.newTokens} tokens with the KV cache from ${s.prompts} prompts of ${s.promptLength} tokens, compared with the first model${speed}`;
}
