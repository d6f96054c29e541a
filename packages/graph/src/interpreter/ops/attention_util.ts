import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { ShapeError } from '@whittle/tensor';
import type { OpContext } from '../context.js';

/**
 * Pieces shared by the attention-family ops (RotaryEmbedding, GroupQueryAttention,
 * MultiHeadAttention, Attention): rotary rotation, head split / merge, masks built on the host
 * and the scaled-dot-product core — all tensor ops, so they run on every backend and carry
 * gradients to q, k, v.
 */

/** The lowest float32, onnxruntime's additive value for causally masked scores. */
export const FLOAT32_LOWEST = -3.4028234663852886e38;

/** A ShapeError naming the node and what is wrong with its inputs. */
export function badInput(ctx: OpContext, what: string): ShapeError {
  return new ShapeError(`node ${ctx.node.name || '(unnamed)'} (${ctx.node.opType}): ${what}`);
}

/**
 * Rotate the first `rotaryDim` channels of x's last axis by angles whose cos and sin are `cos`,
 * `sin` (last axis rotaryDim / 2, broadcastable against x's other axes); channels past
 * rotaryDim pass through. Interleaved pairs channels (2i, 2i+1), otherwise (i, i + rotaryDim/2).
 */
export function rotate(x: Tensor, cos: Tensor, sin: Tensor, rotaryDim: number, interleaved: boolean): Tensor {
  const r = x.rank;
  const last = r - 1;
  const h = x.shape[last]!;
  const half = rotaryDim / 2;
  const rest = rotaryDim < h ? T.slice(x, [rotaryDim], [h], [last]) : undefined;
  let rotated: Tensor;
  if (interleaved) {
    const pairs = T.reshape(T.slice(x, [0], [rotaryDim], [last]), [...x.shape.slice(0, last), half, 2]);
    const even = T.slice(pairs, [0], [1], [r]);
    const odd = T.slice(pairs, [1], [2], [r]);
    const c = T.unsqueeze(cos, [cos.rank]);
    const s = T.unsqueeze(sin, [sin.rank]);
    const e2 = T.sub(T.mul(even, c), T.mul(odd, s));
    const o2 = T.add(T.mul(odd, c), T.mul(even, s));
    rotated = T.reshape(T.concat([e2, o2], r), [...x.shape.slice(0, last), rotaryDim]);
  } else {
    const x1 = T.slice(x, [0], [half], [last]);
    const x2 = T.slice(x, [half], [rotaryDim], [last]);
    rotated = T.concat([T.sub(T.mul(x1, cos), T.mul(x2, sin)), T.add(T.mul(x2, cos), T.mul(x1, sin))], last);
  }
  return rest ? T.concat([rotated, rest], last) : rotated;
}

/** [B, S, N·H] → [B, N, S, H]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, s, d] = x.shape as [number, number, number];
  return T.transpose(T.reshape(x, [b, s, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, N, S, H] → [B, S, N·H]. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, n, s, h] = x.shape as [number, number, number, number];
  return T.reshape(T.transpose(x, [0, 2, 1, 3]), [b, s, n * h]);
}

/** Repeat each of the kvHeads heads of [B, kvHeads, T, H] `groups` times (grouped-query attention). */
export function repeatKv(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [b, n, t, h] = x.shape as [number, number, number, number];
  return T.reshape(T.expand(T.unsqueeze(x, [2]), [b, n, groups, t, h]), [b, n * groups, t, h]);
}

/** A float32 host array as a tensor on x's backend, cast to x's dtype. */
export function hostTensor(values: Float32Array, shape: number[], like: Tensor): Tensor {
  const t = T.tensor(values, shape, 'float32', { backend: like.backend });
  return like.dtype === 'float32' ? t : T.cast(t, like.dtype);
}

/** Options of {@link attend}. */
export interface AttendOptions {
  /** Multiplies q·kᵀ. */
  scale: number;
  /** Additive scores bias broadcastable to [B, N, S, T] (masks, attention_bias). */
  bias?: Tensor | undefined;
  /** When > 0, scores become softcap · tanh(scores / softcap) before the bias. */
  softcap?: number;
  /** Per-head logits [1, N, 1, 1] that join each softmax's denominator without a value (attention sinks). */
  sink?: Tensor | undefined;
}

/** softmax(scale · q kᵀ (+ bias)) v over [B, N, S, H] q and [B, N, T, H] k, v. */
export function attend(q: Tensor, k: Tensor, v: Tensor, opts: AttendOptions): Tensor {
  let scores = T.mulScalar(T.matmul(q, T.transpose(k, [0, 1, 3, 2])), opts.scale);
  if (opts.softcap && opts.softcap > 0) scores = T.mulScalar(T.tanh(T.mulScalar(scores, 1 / opts.softcap)), opts.softcap);
  if (opts.bias) scores = T.add(scores, opts.bias);
  if (!opts.sink) return T.matmul(T.softmax(scores, -1), v);
  const [b, n, s, t] = scores.shape as [number, number, number, number];
  const probs = T.softmax(T.concat([scores, T.expand(opts.sink, [b, n, s, 1])], 3), -1);
  return T.matmul(T.slice(probs, [0], [t], [3]), v);
}

/** A mask_index / key_padding_mask as onnxruntime's CPU kernels read it: its values and dims. */
export interface MaskIndex {
  values: readonly number[];
  dims: readonly number[];
}

/**
 * onnxruntime's additive attention mask [B, 1, S, T] for B rows of S queries over T keys, the
 * first P of them past: a key a mask marks out adds mask_filter_value (raw 0/1 masks [B, T] or
 * [B, S, T]; 1-D end positions [B]; end then start positions [2B]); with `causal`, keys after
 * past + s are overwritten with the lowest float32. Undefined when nothing is masked.
 */
export function ortMask(ctx: OpContext, b: number, s: number, t: number, p: number, mask: MaskIndex | undefined, causal: boolean, filter: number): Float32Array | undefined {
  if (!mask && !causal) return undefined;
  const out = new Float32Array(b * s * t);
  if (mask) {
    const { values, dims } = mask;
    const ok = (dims.length === 1 && (dims[0] === b || dims[0] === 2 * b)) || (dims.length === 2 && dims[0] === b && dims[1] === t) || (dims.length === 3 && dims[0] === b && dims[1] === s && dims[2] === t);
    if (!ok) throw badInput(ctx, `mask [${dims.join(', ')}] is not [${b}], [${2 * b}], [${b}, ${t}] or [${b}, ${s}, ${t}]`);
    for (let i = 0; i < b; i++) {
      for (let q = 0; q < s; q++) {
        const row = (i * s + q) * t;
        for (let j = 0; j < t; j++) {
          let keep: boolean;
          if (dims.length === 3) keep = values[row + j]! > 0;
          else if (dims.length === 2) keep = values[i * t + j]! > 0;
          else keep = j < values[i]! && (dims[0] === b || j >= Math.min(values[b + i]!, t));
          if (!keep) out[row + j] = filter;
        }
      }
    }
  }
  if (causal) {
    for (let i = 0; i < b; i++) {
      for (let q = 0; q < s; q++) out.fill(FLOAT32_LOWEST, (i * s + q) * t + p + q + 1, (i * s + q + 1) * t);
    }
  }
  return out;
}
