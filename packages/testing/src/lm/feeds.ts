import { ArgumentError } from '@whittle/tensor';
import type { DecoderLmConfig } from './config.js';

/** One feed as onnxruntime takes it (the shape of `OrtFeed` of @whittle/eval). */
export interface DecoderFeed {
  data: BigInt64Array | Float32Array;
  dims: number[];
}

/**
 * The feeds of one decoder call for a batch of equally long token rows: `input_ids`,
 * `attention_mask` (all ones over past + sequence), `position_ids` (past, past + 1, …) and the
 * past keys/values (`past`: the previous call's `present.*` outputs by name, or none for an empty
 * past of length 0).
 */
export function decoderFeeds(config: DecoderLmConfig, rows: readonly (readonly number[])[], past?: Readonly<Record<string, Float32Array>>, pastLength = 0): Record<string, DecoderFeed> {
  const n = rows.length;
  const s = rows[0]?.length ?? 0;
  if (!n || !s || rows.some((r) => r.length !== s)) throw new ArgumentError(`decoderFeeds: give one or more token rows of one non-zero length, got lengths [${rows.map((r) => r.length).join(', ')}]`);
  if (pastLength + s > config.maxPositions) throw new ArgumentError(`decoderFeeds: past ${pastLength} + ${s} tokens exceed the ${config.maxPositions} positions of the model`);
  const ids = BigInt64Array.from(rows.flat().map(BigInt));
  const positions = new BigInt64Array(n * s);
  for (let b = 0; b < n; b++) for (let t = 0; t < s; t++) positions[b * s + t] = BigInt(pastLength + t);
  const feeds: Record<string, DecoderFeed> = {
    input_ids: { data: ids, dims: [n, s] },
    attention_mask: { data: new BigInt64Array(n * (pastLength + s)).fill(1n), dims: [n, pastLength + s] },
    position_ids: { data: positions, dims: [n, s] },
  };
  for (let i = 0; i < config.layers; i++) {
    for (const kind of ['key', 'value']) {
      const data = past?.[`present.${i}.${kind}`] ?? new Float32Array(0);
      const dims = [n, config.heads, pastLength, config.headDim];
      if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new ArgumentError(`decoderFeeds: past 'present.${i}.${kind}' holds ${data.length} values, not [${dims.join(', ')}]`);
      feeds[`past_key_values.${i}.${kind}`] = { data, dims };
    }
  }
  return feeds;
}

/** Names of the present outputs of a decoder, in output order. */
export function presentNames(config: DecoderLmConfig): string[] {
  return Array.from({ length: config.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
}
