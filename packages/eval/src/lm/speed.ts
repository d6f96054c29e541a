/**
 * Tokens per second with the KV cache, prefill and decode apart, several decoders timed
 * interleaved in one run (machine load hits them alike). Browser-safe: the clock is
 * `performance.now`.
 */
import { EvaluationError } from '../errors.js';
import { median } from '../latency_stats.js';
import { greedyGenerate } from './generate.js';
import type { DecoderIo } from './io.js';
import type { DecoderSession } from './session.js';

/** Speed of one decoder. */
export interface DecoderSpeed {
  /** Prompt tokens per second of the prefill call (median over rounds). */
  prefillTokensPerSecond: number;
  /** Generated tokens per second of the single-token calls with the cache (median call time). */
  decodeTokensPerSecond: number;
  prefillMs: number;
  decodeMs: number;
  /** This / the first decoder's tokens per second (above 1: faster). */
  prefillRatio: number;
  decodeRatio: number;
}

/** Options of {@link compareDecoderSpeed}. */
export interface DecoderSpeedOptions {
  /** Tokens per generation (default 32). */
  newTokens?: number;
  /** Timed generations per decoder (default 5), after one untimed warm-up. */
  rounds?: number;
  /** Prefill calls timed per round and decoder (default 3: the generation's and 2 more), for a steadier median. */
  prefillRuns?: number;
}

/**
 * Time greedy generation of `newTokens` tokens after `prompt` for every decoder, round-robin:
 * prefill speed from the median of `prefillRuns` prefill calls per round, decode speed from the median of all single-token
 * call times; ratios against the first decoder.
 */
export async function compareDecoderSpeed(decoders: readonly { session: DecoderSession; io: DecoderIo; name: string }[], prompt: readonly number[], opts: DecoderSpeedOptions = {}): Promise<DecoderSpeed[]> {
  const newTokens = opts.newTokens ?? 32;
  const rounds = opts.rounds ?? 5;
  const prefillRuns = opts.prefillRuns ?? 3;
  if (newTokens < 2) throw new EvaluationError(`decode speed needs at least 2 generated tokens, got ${newTokens}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new EvaluationError(`speed rounds must be a positive integer, got ${rounds}`);
  for (const d of decoders) await greedyGenerate(d.session, d.io, prompt, 2, { what: d.name });
  const prefill = decoders.map(() => [] as number[]);
  const steps = decoders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, d] of decoders.entries()) {
      const g = await greedyGenerate(d.session, d.io, prompt, newTokens, { what: d.name });
      prefill[i]!.push(g.prefillMs);
      steps[i]!.push(...g.stepMs);
      for (let k = 1; k < prefillRuns; k++) prefill[i]!.push((await greedyGenerate(d.session, d.io, prompt, 1, { what: d.name })).prefillMs);
    }
  }
  const out = decoders.map((_, i) => {
    const prefillMs = median(prefill[i]!);
    const decodeMs = median(steps[i]!);
    return { prefillTokensPerSecond: (prompt.length * 1000) / prefillMs, decodeTokensPerSecond: 1000 / decodeMs, prefillMs, decodeMs, prefillRatio: 1, decodeRatio: 1 };
  });
  for (const o of out) {
    o.prefillRatio = o.prefillTokensPerSecond / out[0]!.prefillTokensPerSecond;
    o.decodeRatio = o.decodeTokensPerSecond / out[0]!.decodeTokensPerSecond;
  }
  return out;
}
