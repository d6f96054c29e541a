import { getInts } from '../ir/attributes.js';
import type { Node } from '../ir/types.js';

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/**
 * Multiply-adds of the fused attention ops, counted as the MatMuls they stand for: q·kᵀ and
 * probabilities·v over every head (B·N·S·T·(H + Hv)), plus com.microsoft Attention's input
 * projection. T is the attended length (past + new keys; GroupQueryAttention's present length).
 * Undefined for other ops; 0 when a shape it needs is unknown.
 */
export function attentionMacs(key: string, n: Node, shape: (name: string | undefined) => number[] | undefined): number | undefined {
  const out = shape(n.outputs[0]);
  if (key === 'com.microsoft:GroupQueryAttention') {
    const present = shape(n.outputs[1]);
    if (!out || !present) return 0;
    // out [B, S, N·H], present [B, kvN, T, H]
    return 2 * prod(out) * present[2]!;
  }
  if (key === 'com.microsoft:MultiHeadAttention') {
    const q = shape(n.inputs[0]);
    const k = shape(n.inputs[1]);
    if (!out || !q || !k) return 0;
    const past = n.inputs[6] ? (shape(n.inputs[6])?.[2] ?? 0) : 0;
    const t = (k.length === 4 ? k[2]! : k[1]!) + past;
    // q [B, S, N·H] against T keys; out [B, S, N·Hv] from T values
    return (prod(q) + prod(out)) * t;
  }
  if (key === 'com.microsoft:Attention') {
    const x = shape(n.inputs[0]);
    const w = shape(n.inputs[1]);
    if (!out || !x || !w) return 0;
    const past = n.inputs[4] ? (shape(n.inputs[4])?.[3] ?? 0) : 0;
    const t = x[1]! + past;
    const dq = getInts(n, 'qkv_hidden_sizes')?.[0] ?? w[1]! / 3;
    return prod(x) * w[1]! + (x[0]! * x[1]! * dq + prod(out)) * t;
  }
  if (key === 'Attention') {
    const qk = [shape(n.inputs[0]), shape(n.inputs[1]), shape(n.inputs[2])];
    if (!out || qk.some((s) => !s)) return 0;
    const [q, k] = qk as [number[], number[]];
    const past = n.inputs[4] ? (shape(n.inputs[4])?.[2] ?? 0) : 0;
    const t = (k.length === 4 ? k[2]! : k[1]!) + past;
    return (prod(q) + prod(out)) * t;
  }
  return undefined;
}
