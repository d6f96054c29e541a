import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import type { Graph } from '../../ir/types.js';
import { unsupported } from './util.js';

/**
 * ai.onnx.preview FlexAttention: softmax(score_mod(Q·Kᵀ·scale))·V over `[B, H, L, E]` queries
 * and `[B, Hkv, S, E]` keys/values (query heads share their group's key/value head), with the
 * optional `score_mod` and `prob_mod` subgraphs applied to the float32 scores and
 * probabilities, as the op's function body: Q and K are each scaled by √scale (default
 * 1/√E) in their dtype, scores and probabilities are float32, V is read in float32 and Y cast
 * back. Tensor ops on the inputs' backend.
 */
async function applyMod(ctx: OpContext, graph: Graph | undefined, x: Tensor): Promise<Tensor> {
  if (!graph) return x;
  const [out] = await ctx.runSubgraph(graph, new Map([[graph.inputs[0]!.name, x]]));
  return out!.dtype === 'float32' ? out! : T.cast(out!, 'float32');
}

registerOp('FlexAttention', async ([qIn, kIn, vIn], ctx) => {
  const [q, k, v] = [qIn!, kIn!, vIn!];
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) unsupported(ctx, `Q [${q.shape.join(',')}], K [${k.shape.join(',')}], V [${v.shape.join(',')}] (FlexAttention takes [B, H, L, E])`);
  const [b, hq, , e] = q.shape as [number, number, number, number];
  const [hkv, s] = [k.shape[1]!, k.shape[2]!];
  if (hq % hkv !== 0 || v.shape[1] !== hkv) unsupported(ctx, `${hq} query heads with ${hkv} key/value heads`);
  const group = hq / hkv;
  const align = (x: Tensor): Tensor => (group === 1 ? x : T.reshape(T.expand(T.unsqueeze(x, [2]), [b, hkv, group, s, x.shape[3]!]), [b, hq, s, x.shape[3]!]));
  const root = T.full([], Math.sqrt(ctx.floatOpt('scale') ?? 1 / Math.sqrt(e)), q.dtype, { backend: q.backend });
  const scores = T.matmul(T.mul(q, root), T.mul(align(k), root), { transB: true });
  const f32 = (x: Tensor): Tensor => (x.dtype === 'float32' ? x : T.cast(x, 'float32'));
  const modded = await applyMod(ctx, ctx.graph('score_mod'), f32(scores));
  const probs = await applyMod(ctx, ctx.graph('prob_mod'), T.softmax(modded, 3));
  const y = T.matmul(probs, f32(align(v)));
  return [y.dtype === q.dtype ? y : T.cast(y, q.dtype)];
}, 'ai.onnx.preview');
