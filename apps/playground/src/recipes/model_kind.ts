/**
 * What a model is, from its op histogram, inputs and parameters, so the page can offer presets
 * that fit it: a CNN, a transformer encoder, a decoder LM with a KV cache, a tiny MLP, or other.
 */
import type { ModelAnalysis } from '../worker/protocol.js';

export type ModelKind = 'cnn' | 'transformer' | 'lm-kv' | 'mlp' | 'other';

/** A tiny MLP has at most this many parameters (LeNet-300-100 has 266 k). */
export const TINY_MLP_PARAMETERS = 2_000_000;

const KV_INPUT = /past_key_values|past_key|past_value|(^|[./_])(key|value)_cache|^past\b|present/i;

/** Parameters of the layers whose op type is one of `ops`. */
function paramsOf(a: ModelAnalysis, ops: readonly string[]): number {
  return a.layers.filter((l) => ops.includes(l.opType)).reduce((s, l) => s + l.parameters, 0);
}

/** The kind of a model, with the evidence for the page to show. */
export function modelKind(a: ModelAnalysis): { kind: ModelKind; why: string } {
  const ops = a.ops;
  const has = (op: string): number => ops[op] ?? 0;
  const kv = a.inputs.filter((i) => KV_INPUT.test(i.name));
  if (kv.length) return { kind: 'lm-kv', why: `KV-cache inputs (${kv.slice(0, 3).map((i) => i.name).join(', ')}${kv.length > 3 ? ', …' : ''})` };
  const attention = has('Attention') + has('MultiHeadAttention') + has('GroupQueryAttention');
  const matmulParams = paramsOf(a, ['MatMul', 'Gemm', 'MatMulNBits', 'MatMulInteger', 'Gather']);
  const convParams = paramsOf(a, ['Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv']);
  if (attention || (has('Softmax') && has('MatMul') >= 4 && (has('LayerNormalization') || has('ReduceMean') || has('SimplifiedLayerNormalization')))) {
    return { kind: 'transformer', why: attention ? 'attention ops' : `${has('MatMul')} MatMul, Softmax and layer norms (attention blocks)` };
  }
  if (has('Conv') + has('ConvTranspose') > 0 && convParams >= matmulParams * 0.25) return { kind: 'cnn', why: `${has('Conv') + has('ConvTranspose')} convolutions hold ${Math.round((100 * convParams) / Math.max(1, a.parameters))} % of the weights` };
  if (matmulParams > 0 && a.parameters <= TINY_MLP_PARAMETERS && matmulParams >= a.parameters * 0.9 && !has('Conv')) return { kind: 'mlp', why: `${a.layers.length} dense layers, ${a.parameters} parameters` };
  return { kind: 'other', why: 'no convolution or attention pattern recognized' };
}

/** Human name of a kind. */
export const KIND_LABEL: Record<ModelKind, string> = {
  cnn: 'convolutional network',
  transformer: 'transformer encoder',
  'lm-kv': 'language model with KV cache',
  mlp: 'small MLP',
  other: 'model',
};
