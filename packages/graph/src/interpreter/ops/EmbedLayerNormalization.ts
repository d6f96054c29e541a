import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { badInput, expectVector, standardize } from './contrib_util.js';

/** Rows of `table` at `ids` (Gather on axis 0), after checking ids' shape. */
function lookup(ctx: OpContext, table: Tensor, ids: Tensor, name: string, h: number): Tensor {
  if (table.rank !== 2 || table.shape[1] !== h) throw badInput(ctx, `${name} has shape [${table.shape.join(',')}]; it must be 2-D [rows, ${h}]`);
  return T.gather(table, ids, 0);
}

/**
 * com.microsoft EmbedLayerNormalization (BERT's embeddings fused): sum = word_embedding[input_ids]
 * + position_embedding[position_ids, or 0 … S-1] (+ segment_embedding[segment_ids, or 0]), then layer
 * normalization over the hidden axis with gamma and beta (epsilon 1e-12 by default). Outputs:
 * output [B, S, H]; mask_index int32 [B] — what onnxruntime computes: the count of mask entries
 * equal to 1 in each row (0 without a mask); and embedding_sum, the sum before normalization.
 * position_ids may be [B, S] or [1, S].
 */
registerOp(
  'EmbedLayerNormalization',
  ([ids, segIds, wordEmb, posEmb, segEmb, gamma, beta, mask, posIds], ctx) => {
    if (ids!.rank !== 2) throw badInput(ctx, `input_ids has shape [${ids!.shape.join(',')}]; it must be 2-D [batch, sequence]`);
    const [b, s] = ids!.shape as [number, number];
    const h = wordEmb!.shape[1] ?? 0;
    const sameAsIds = (t: Tensor, name: string): void => {
      if (t.rank !== 2 || t.shape[0] !== b || t.shape[1] !== s) throw badInput(ctx, `${name} has shape [${t.shape.join(',')}]; it must be [${b},${s}] like input_ids`);
    };
    let sum = lookup(ctx, wordEmb!, ids!, 'word_embedding', h);
    let positions: Tensor;
    if (posIds) {
      if (posIds.rank !== 2 || (posIds.shape[0] !== b && posIds.shape[0] !== 1) || posIds.shape[1] !== s) throw badInput(ctx, `position_ids has shape [${posIds.shape.join(',')}]; it must be [${b},${s}] or [1,${s}]`);
      positions = posIds;
    } else {
      positions = T.tensor(Int32Array.from({ length: s }, (_, i) => i), [s], 'int32', { backend: ids!.backend });
    }
    sum = T.add(sum, lookup(ctx, posEmb!, positions, 'position_embedding', h));
    if (segIds && !segEmb) throw badInput(ctx, 'segment_ids is given without segment_embedding');
    if (segEmb) {
      // without segment_ids every token is of segment 0, as in onnxruntime
      if (segIds) sameAsIds(segIds, 'segment_ids');
      const segments = segIds ?? T.full([1], 0, 'int32', { backend: ids!.backend });
      sum = T.add(sum, lookup(ctx, segEmb, segments, 'segment_embedding', h));
    }
    expectVector(ctx, gamma!, 'gamma', h);
    expectVector(ctx, beta!, 'beta', h);
    const { normalized } = standardize(sum, 2, ctx.float('epsilon', 1e-12));
    let maskIndex: Tensor;
    if (mask) {
      sameAsIds(mask, 'mask');
      maskIndex = T.sum(T.cast(T.equal(mask, T.full([], 1, mask.dtype, { backend: mask.backend })), 'int32'), [1]);
    } else {
      maskIndex = T.full([b], 0, 'int32', { backend: ids!.backend });
    }
    return [T.add(T.mul(normalized, gamma!), beta!), maskIndex, sum];
  },
  'com.microsoft',
);
