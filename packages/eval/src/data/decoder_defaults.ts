/**
 * Token-id data (.jsonl, raw text) holds the ids only; a decoder exported with a KV cache also
 * takes an attention mask, position ids, the past keys/values and (Optimum's merged decoder) a
 * `use_cache_branch` flag. Those have one value for a first step over the given tokens, as
 * Transformers.js feeds it: mask all ones, positions 0..S-1, an empty past (length 0), the flag
 * false. {@link decoderDefaults} makes them, so token ids alone calibrate, train and evaluate such
 * a decoder.
 */
import { allocStorage } from '@whittle/tensor';
import { dtypeOfElemType } from './arrays.js';
import type { DataArray, DataChunk, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';
import { CACHE_NAME, MASK_NAME, POSITION_NAME, USE_CACHE_NAME } from './input_names.js';

const INTEGER = new Set(['int64', 'int32']);

/**
 * The missing inputs of a decoder step over `chunk`'s token ids ([count, S], an integer input
 * named like `input_ids`), or undefined when none of `missing` is a KV cache input, any of them is
 * not one of those inputs, or the chunk holds no token ids (then the data does not fit and the
 * caller says so).
 */
export function decoderDefaults(chunk: DataChunk, missing: readonly ModelInputSpec[]): Record<string, DataArray> | undefined {
  // only for a decoder with a KV cache: an encoder's mask / token types stay the data's to give
  if (!missing.some((s) => CACHE_NAME.test(s.name))) return undefined;
  const ids = Object.entries(chunk.inputs).find(([n, a]) => /input_ids$/i.test(n) && INTEGER.has(a.dtype) && a.shape.length === 2)?.[1];
  if (!ids) return undefined;
  const [count, seq] = [ids.shape[0]!, ids.shape[1]!];
  const out: Record<string, DataArray> = {};
  for (const spec of missing) {
    const dtype = dtypeOfElemType(spec.elemType);
    const shape = spec.shape;
    if (!dtype || !shape) return undefined;
    if (INTEGER.has(dtype) && shape.length === 2 && (MASK_NAME.test(spec.name) || POSITION_NAME.test(spec.name))) {
      const data = allocStorage(dtype, count * seq);
      const position = POSITION_NAME.test(spec.name);
      for (let i = 0; i < count * seq; i++) {
        const v = position ? i % seq : 1;
        if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v);
        else (data as Int32Array)[i] = v;
      }
      out[spec.name] = { data, shape: [count, seq], dtype };
    } else if (CACHE_NAME.test(spec.name) && (dtype === 'float32' || dtype === 'float16') && shape.length >= 3) {
      // [batch, heads, past length, head dim]: the one named (symbolic) axis after the batch is the past length
      const named = shape.map((d, k) => (k > 0 && typeof d !== 'number' ? k : -1)).filter((k) => k > 0);
      if (named.length !== 1 || shape.some((d, k) => k > 0 && k !== named[0] && typeof d !== 'number')) return undefined;
      const dims = shape.map((d, k) => (k === 0 ? count : k === named[0] ? 0 : (d as number)));
      out[spec.name] = { data: allocStorage(dtype, sizeOfShape(dims)), shape: dims, dtype };
    } else if (dtype === 'bool' && USE_CACHE_NAME.test(spec.name) && shape.every((d) => d === 1)) {
      // no cache to use: the branch without one; one flag per sample, each a complete feed
      out[spec.name] = { data: allocStorage('bool', count * sizeOfShape(shape as number[])), shape: [count, ...(shape as number[])], dtype };
    } else return undefined;
  }
  return out;
}
