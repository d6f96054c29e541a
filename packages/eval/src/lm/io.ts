/**
 * Which decoder input takes what, found by name as Optimum / Transformers.js name them:
 * `input_ids`, `attention_mask`, `position_ids`, `past_key_values.N.key/value` (fed back from
 * `present.N.key/value`) and the merged layout's `use_cache_branch`. Browser-safe.
 */
import { EvaluationError } from '../errors.js';
import type { DecoderFeedType, DecoderSession } from './session.js';

/** One cache slot: the past input, the present output that feeds it next step, its layout. */
export interface CacheSlot {
  input: string;
  output: string;
  layer: number;
  kind: 'key' | 'value';
  /** Element type of the cache (float32 or float16). */
  type: 'float32' | 'float16';
  /** Heads and head size: the empty past is [batch, heads, 0, headDim]. */
  heads: number;
  headDim: number;
}

/** The decoder's inputs and outputs by role. */
export interface DecoderIo {
  ids: string;
  mask: string | undefined;
  positions: string | undefined;
  /** The merged layout's bool switch (false on the first call, true once there is a past). */
  cacheBranch: string | undefined;
  logits: string;
  cache: CacheSlot[];
  layers: number;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const PRESENT = /^present\.(\d+)\.(key|value)$/;

/** Whether a session looks like a decoder with a KV cache (has `past_key_values.*` inputs). */
export function isCachedDecoder(inputNames: readonly string[]): boolean {
  return inputNames.some((n) => PAST.test(n));
}

/**
 * Map a decoder session's inputs and outputs. `what` names the model in errors. An input the
 * loop cannot fill, a past without its present, or a cache whose heads / head size are not fixed
 * in the model is refused.
 */
export function decoderIo(s: Pick<DecoderSession, 'inputNames' | 'outputNames' | 'inputInfo'>, what: string): DecoderIo {
  const find = (re: RegExp): string | undefined => s.inputNames.find((n) => re.test(n));
  const ids = find(/(^|[_.])input_ids$/);
  if (!ids) throw new EvaluationError(`${what}: no 'input_ids' input (inputs: ${s.inputNames.join(', ')}); a decoder LM takes token ids`);
  const mask = find(/(^|[_.])attention_mask$/);
  const positions = find(/(^|[_.])position_ids$/);
  const cacheBranch = find(/(^|[_.])use_cache_branch$/);
  const logits = s.outputNames.find((n) => n === 'logits') ?? s.outputNames[0];
  if (!logits) throw new EvaluationError(`${what}: the model has no outputs`);
  const cache: CacheSlot[] = [];
  const known = new Set([ids, mask, positions, cacheBranch].filter((x): x is string => x !== undefined));
  for (const name of s.inputNames) {
    if (known.has(name)) continue;
    const m = PAST.exec(name);
    if (!m) throw new EvaluationError(`${what}: input '${name}' is none of input_ids, attention_mask, position_ids, past_key_values.N.key/value, use_cache_branch; the LM evaluation cannot fill it`);
    const layer = Number(m[1]);
    const kind = m[2] as 'key' | 'value';
    const output = s.outputNames.find((o) => {
      const p = PRESENT.exec(o);
      return p !== null && Number(p[1]) === layer && p[2] === kind;
    });
    if (!output) throw new EvaluationError(`${what}: input '${name}' has no 'present.${layer}.${kind}' output to feed it`);
    const info = s.inputInfo(name);
    const [, heads, , headDim] = info?.shape ?? [];
    if (typeof heads !== 'number' || typeof headDim !== 'number' || info?.shape.length !== 4) {
      throw new EvaluationError(`${what}: input '${name}' must have the shape [batch, heads, past, head_dim] with fixed heads and head_dim, got [${info?.shape.join(', ') ?? 'unknown'}]`);
    }
    const type = info.type === 'float16' ? 'float16' : info.type === 'float32' ? 'float32' : undefined;
    if (!type) throw new EvaluationError(`${what}: input '${name}' is ${info.type}; a KV cache is float32 or float16`);
    cache.push({ input: name, output, layer, kind, type, heads, headDim });
  }
  cache.sort((a, b) => a.layer - b.layer || a.kind.localeCompare(b.kind));
  return { ids, mask, positions, cacheBranch, logits, cache, layers: new Set(cache.map((c) => c.layer)).size };
}

/** The empty past of a slot ([batch, heads, 0, headDim]). */
export function emptyPast(s: Pick<DecoderSession, 'tensor'>, slot: CacheSlot, batch = 1): ReturnType<DecoderSession['tensor']> {
  const type: DecoderFeedType = slot.type;
  return s.tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [batch, slot.heads, 0, slot.headDim]);
}
