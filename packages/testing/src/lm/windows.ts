import type { TrainingData } from '@whittle/graph';
import type { DecoderLmConfig } from './config.js';

/** Token ids of documents joined with `separator` between them (and after the last). */
export function packDocuments(docs: readonly (readonly number[])[], separator: number): number[] {
  const out: number[] = [];
  for (const d of docs) {
    for (const id of d) out.push(id);
    out.push(separator);
  }
  return out;
}

/** Non-overlapping windows of `length` tokens (a shorter remainder is dropped). */
export function tokenWindows(tokens: readonly number[], length: number): number[][] {
  const out: number[][] = [];
  for (let at = 0; at + length <= tokens.length; at += length) out.push(tokens.slice(at, at + length));
  return out;
}

/**
 * Whittle {@link TrainingData} for next-token training of a {@link buildDecoderLm} decoder on token
 * windows: `input_ids`, an all-ones `attention_mask`, `position_ids` 0…L-1 and empty past
 * keys/values (past length 0), with the `lm` loss on `logits`.
 */
export function lmTrainingData(config: DecoderLmConfig, windows: readonly (readonly number[])[]): TrainingData {
  const n = windows.length;
  const l = windows[0]?.length ?? 0;
  const ids = new BigInt64Array(n * l);
  const positions = new BigInt64Array(n * l);
  windows.forEach((w, i) => w.forEach((id, t) => {
    ids[i * l + t] = BigInt(id);
    positions[i * l + t] = BigInt(t);
  }));
  const feeds: NonNullable<TrainingData['feeds']> = {
    input_ids: { data: ids, shape: [n, l], dtype: 'int64' },
    attention_mask: { data: new BigInt64Array(n * l).fill(1n), shape: [n, l], dtype: 'int64' },
    position_ids: { data: positions, shape: [n, l], dtype: 'int64' },
  };
  const empty = { data: new Float32Array(0), shape: [n, config.heads, 0, config.headDim], dtype: 'float32' as const };
  const all: Record<string, (typeof feeds)[string]> = { ...feeds };
  for (let i = 0; i < config.layers; i++) {
    all[`past_key_values.${i}.key`] = empty;
    all[`past_key_values.${i}.value`] = empty;
  }
  return { feeds: all, task: { loss: 'lm', output: 'logits' } };
}
