/**
 * Forward passes and greedy generation with the KV cache: the prompt is run once (prefill) with
 * an empty past, then one token per call with the previous call's `present.*` fed back as
 * `past_key_values.*`, the attention mask grown by one and the position ids continued.
 * Browser-safe: it drives any {@link DecoderSession}.
 */
import { EvaluationError } from '../errors.js';
import { type DecoderIo, emptyPast } from './io.js';
import { type DecoderSession, type DecoderTensor, tensorFloats } from './session.js';

/** One call's feeds: `ids` at positions past..past+ids.length-1 after a past of `past` tokens. */
function stepFeeds(s: DecoderSession, io: DecoderIo, ids: readonly number[], past: number, cache: Record<string, DecoderTensor> | undefined): Record<string, DecoderTensor> {
  const n = ids.length;
  const feeds: Record<string, DecoderTensor> = { [io.ids]: s.tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, n]) };
  if (io.mask) feeds[io.mask] = s.tensor('int64', new BigInt64Array(past + n).fill(1n), [1, past + n]);
  if (io.positions) feeds[io.positions] = s.tensor('int64', BigInt64Array.from({ length: n }, (_, k) => BigInt(past + k)), [1, n]);
  if (io.cacheBranch) feeds[io.cacheBranch] = s.tensor('bool', Uint8Array.of(past > 0 ? 1 : 0), [1]);
  for (const slot of io.cache) feeds[slot.input] = cache?.[slot.input] ?? emptyPast(s, slot);
  return feeds;
}

/** Logits of a run as [sequence, vocab] float32 (batch 1). */
function logitsOf(out: Record<string, DecoderTensor>, io: DecoderIo, n: number, what: string): { data: Float32Array; vocab: number } {
  const t = out[io.logits];
  if (!t) throw new EvaluationError(`${what}: the run returned no '${io.logits}' output`);
  const data = tensorFloats(t, `${what} '${io.logits}'`);
  const vocab = t.dims[t.dims.length - 1] ?? 0;
  if (t.dims.length !== 3 || t.dims[1] !== n || data.length !== n * vocab) throw new EvaluationError(`${what}: '${io.logits}' is [${t.dims.join(', ')}], expected [1, ${n}, vocab]`);
  return { data, vocab };
}

function argmax(a: Float32Array, from: number, n: number): number {
  let best = -Infinity;
  let arg = 0;
  for (let v = 0; v < n; v++) {
    const x = a[from + v]!;
    if (x > best) [best, arg] = [x, v];
  }
  return arg;
}

/**
 * Logits [ids.length, vocab] of one forward pass over `ids` with an empty past (the first call
 * of generation; what perplexity scores).
 */
export async function forwardLogits(s: DecoderSession, io: DecoderIo, ids: readonly number[], what = 'decoder'): Promise<{ data: Float32Array; vocab: number }> {
  if (!ids.length) throw new EvaluationError(`${what}: no token ids to run`);
  return logitsOf(await s.run(stepFeeds(s, io, ids, 0, undefined)), io, ids.length, what);
}

/** Options of {@link greedyGenerate}. */
export interface GreedyOptions {
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
  /** Keep the last-position logits of every call (prefill first). */
  keepLogits?: boolean;
  /** Name of the model in errors. */
  what?: string;
}

/** Generated tokens and how long each call took. */
export interface GreedyResult {
  /** `newTokens` greedy tokens after the prompt. */
  tokens: number[];
  /** Time of the prefill call (the whole prompt, empty past), ms. */
  prefillMs: number;
  /** Time of every single-token call with the cache, ms (newTokens − 1 of them). */
  stepMs: number[];
  /** Last-position logits of every call, when asked. */
  logits?: Float32Array[];
}

/**
 * Generate `newTokens` tokens greedily (argmax) after `prompt`, with the KV cache: one prefill
 * call and `newTokens − 1` single-token calls, each timed.
 */
export async function greedyGenerate(s: DecoderSession, io: DecoderIo, prompt: readonly number[], newTokens: number, opts: GreedyOptions = {}): Promise<GreedyResult> {
  const what = opts.what ?? 'decoder';
  if (!prompt.length) throw new EvaluationError(`${what}: greedy generation needs a prompt of at least one token`);
  if (!Number.isInteger(newTokens) || newTokens < 1) throw new EvaluationError(`${what}: newTokens must be a positive integer, got ${newTokens}`);
  const now = opts.now ?? (() => performance.now());
  const tokens: number[] = [];
  const stepMs: number[] = [];
  const logits: Float32Array[] = [];
  let cache: Record<string, DecoderTensor> | undefined;
  let past = 0;
  let ids: readonly number[] = prompt;
  let prefillMs = 0;
  for (let k = 0; k < newTokens; k++) {
    const feeds = stepFeeds(s, io, ids, past, cache);
    const t0 = now();
    const out = await s.run(feeds);
    const ms = now() - t0;
    if (k === 0) prefillMs = ms;
    else stepMs.push(ms);
    const l = logitsOf(out, io, ids.length, what);
    const row = (ids.length - 1) * l.vocab;
    if (opts.keepLogits) logits.push(l.data.slice(row, row + l.vocab));
    const next = argmax(l.data, row, l.vocab);
    tokens.push(next);
    const nextCache: Record<string, DecoderTensor> = {};
    for (const slot of io.cache) {
      const p = out[slot.output];
      if (!p) throw new EvaluationError(`${what}: the run returned no '${slot.output}' output`);
      if (p.dims[2] !== past + ids.length) throw new EvaluationError(`${what}: '${slot.output}' holds ${p.dims[2]} positions after ${past + ids.length} tokens; the cache does not grow as past + new tokens`);
      nextCache[slot.input] = p;
    }
    cache = nextCache;
    past += ids.length;
    ids = [next];
  }
  return { tokens, prefillMs, stepMs, ...(opts.keepLogits ? { logits } : {}) };
}
