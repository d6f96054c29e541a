import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX LinearAttention (opset 27): recurrent linear attention over `[B, T, H·d]` query/key/value
 * with a per-(batch, kv head) state `[B, Hkv, dk, dv]` (past_state, else zeros) updated step by
 * step as the op's function body does — linear: S += k vᵀ; gated: S = e^decay·S + k vᵀ; delta:
 * S += k (β (v − Sᵀk))ᵀ; gated_delta (the default): decay, then the delta rule — and read as
 * scale · q S (query heads share their group's state). Tensor ops in float32 on the inputs'
 * backend, one step per time position; outputs (output, present_state).
 */
registerOp('LinearAttention', ([query, key, value, past, decay, beta], ctx) => {
  const q = query!;
  const [b, t] = q.shape as [number, number];
  const hq = ctx.int('q_num_heads', 0);
  const hkv = ctx.int('kv_num_heads', 0);
  const rule = ctx.string('update_rule', 'gated_delta');
  if (!['linear', 'gated', 'delta', 'gated_delta'].includes(rule)) unsupported(ctx, `update_rule '${rule}'`);
  if (q.rank !== 3 || !(hq > 0 && hkv > 0) || hq % hkv !== 0) unsupported(ctx, `query [${q.shape.join(',')}] with q_num_heads ${hq} and kv_num_heads ${hkv}`);
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  if ((gated && !decay) || (delta && !beta)) unsupported(ctx, `update_rule '${rule}' without its ${gated && !decay ? 'decay' : 'beta'} input`);
  const dk = q.shape[2]! / hq;
  const dv = value!.shape[2]! / hkv;
  const scale = ctx.floatOpt('scale') ?? 1 / Math.sqrt(dk);
  const f32 = (x: Tensor): Tensor => (x.dtype === 'float32' ? x : T.cast(x, 'float32'));
  // [B, T, H·d] → [T, B, H, d]
  const steps = (x: Tensor, heads: number): Tensor => T.transpose(T.reshape(f32(x), [b, t, heads, x.shape[2]! / heads]), [1, 0, 2, 3]);
  const [qs, ks, vs] = [steps(q, hq), steps(key!, hkv), steps(value!, hkv)];
  const ds = decay ? steps(decay, hkv) : undefined;
  const bs = beta ? T.transpose(T.reshape(f32(beta), [b, t, beta.shape[2]!, 1]), [1, 0, 2, 3]) : undefined;
  const at = (x: Tensor, i: number): Tensor => T.reshape(T.slice(x, [i], [i + 1], [0]), x.shape.slice(1));
  let state = past ? f32(past) : T.zeros([b, hkv, dk, dv], 'float32', { backend: q.backend });
  const group = hq / hkv;
  const outs: Tensor[] = [];
  for (let i = 0; i < t; i++) {
    const k = T.unsqueeze(at(ks, i), [3]); // [B, Hkv, dk, 1]
    const v = at(vs, i); // [B, Hkv, dv]
    if (gated) state = T.mul(state, T.unsqueeze(T.exp(at(ds!, i)), [3]));
    let write = v;
    if (delta) {
      const retrieved = T.reshape(T.matmul(T.transpose(state, [0, 1, 3, 2]), k), [b, hkv, dv]);
      write = T.mul(at(bs!, i), T.sub(v, retrieved));
    }
    state = T.add(state, T.matmul(k, T.unsqueeze(write, [2])));
    const read = group === 1 ? state : T.reshape(T.expand(T.unsqueeze(state, [2]), [b, hkv, group, dk, dv]), [b, hq, dk, dv]);
    const out = T.reshape(T.matmul(T.unsqueeze(at(qs, i), [2]), read), [b, hq, dv]);
    outs.push(T.unsqueeze(T.mulScalar(out, scale), [1]));
  }
  const output = T.reshape(outs.length === 1 ? outs[0]! : T.concat(outs, 1), [b, t, hq * dv]);
  const like = past ?? q;
  return [output.dtype === q.dtype ? output : T.cast(output, q.dtype), state.dtype === like.dtype ? state : T.cast(state, like.dtype)];
});
