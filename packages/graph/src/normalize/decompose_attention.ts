import * as T from '@whittle/tensor';
import { getInt, getInts } from '../ir/attributes.js';
import { createNode } from '../ir/graph.js';
import type { NameGenerator } from '../ir/names.js';
import type { AttributeValue, Graph, Node } from '../ir/types.js';
import { buildUseIndex } from '../ir/uses.js';

/**
 * onnxruntime's transformers optimizer fuses a BERT / GPT-2 self-attention into one
 * com.microsoft Attention whose packed QKV weight [hidden, Dq + Dk + Dv] no technique reaches.
 * With a constant weight it is rewritten into MatMul(input, W) (+ Add bias) → Split into q, k, v
 * → com.microsoft MultiHeadAttention, which onnxruntime's CPU kernel computes with the same code
 * (the mask read as key_padding_mask, attention_bias passed on, num_heads / scale /
 * mask_filter_value / unidirectional carried over).
 */

/** One Attention rewritten by {@link decomposeAttention}, as {@link recomposeAttention} needs it. */
export interface DecomposedAttention {
  /** The Attention node as it was. */
  original: Node;
  /** Names of the nodes that replaced it: MatMul, Add (when there is a bias), Split, MultiHeadAttention. */
  nodes: string[];
  /** The initializer the MatMul reads as its weight. */
  weight: string;
  /** The value the Add reads as its bias, when there is one. */
  bias?: string;
}

const declaredShape = (g: Graph, name: string): readonly (number | string)[] | undefined => {
  const v = g.inputs.find((x) => x.name === name) ?? g.valueInfo.get(name);
  return v?.type?.kind === 'tensor' ? (v.type.shape as readonly (number | string)[] | undefined) : undefined;
};

/**
 * The mask_index forms MultiHeadAttention's key_padding_mask reads as Attention reads them: the raw
 * 2-D mask [B, T] and the 1-D end positions [B]. A 1-D mask may also be [2B] (start and end
 * positions), which MultiHeadAttention reads otherwise, so it is taken only when it is the
 * optimizer's ReduceSum of a 2-D mask over its last axis or is declared as long as the batch.
 */
function maskForm(g: Graph, name: string, batch: number | string | undefined, depth = 0): 'raw' | 'lengths' | string {
  const shape = declaredShape(g, name);
  if (shape) {
    if (shape.length === 2) return 'raw';
    if (shape.length === 1 && batch !== undefined && shape[0] === batch) return 'lengths';
    if (shape.length !== 1) return `a ${shape.length}-D mask_index (MultiHeadAttention reads only [batch] lengths and [batch, total] masks as Attention does)`;
  }
  const p = buildUseIndex(g).producers.get(name)?.node;
  if (p && p.opType === 'Cast' && depth < 4) return maskForm(g, p.inputs[0]!, batch, depth + 1);
  if (p && p.opType === 'ReduceSum' && getInt(p, 'keepdims', 1) === 0) {
    const axes = getInts(p, 'axes') ?? (p.inputs[1] && g.initializers.has(p.inputs[1]) ? Array.from(g.initializers.get(p.inputs[1])!.dataSync() as ArrayLike<bigint | number>, Number) : undefined);
    const r = declaredShape(g, p.inputs[0]!)?.length;
    if (axes?.length === 1 && r === 2 && (axes[0] === 1 || axes[0] === -1)) return 'lengths';
  }
  return shape?.length === 1 ? 'a 1-D mask_index that may hold start and end positions [2·batch] (MultiHeadAttention reads [3·batch + 2])' : 'a mask_index of unknown rank';
}

/** Why `n` cannot be rewritten, or undefined when it can. */
function refusal(g: Graph, n: Node): string | undefined {
  if (n.inputs[4]) return 'past (key/value cache) input';
  if (n.outputs[1]) return 'present output';
  if (n.inputs[6] || getInt(n, 'past_present_share_buffer', 0)) return 'past_sequence_length / shared past buffer';
  if (getInt(n, 'do_rotary', 0)) return 'do_rotary';
  const w = g.initializers.get(n.inputs[1]!)!;
  if (w.rank !== 2) return `weights of rank ${w.rank}`;
  const sizes = getInts(n, 'qkv_hidden_sizes');
  if (sizes && (sizes.length !== 3 || sizes[0] !== sizes[1] || sizes[0]! + sizes[1]! + sizes[2]! !== w.shape[1])) return `qkv_hidden_sizes [${sizes.join(', ')}] do not split the weights' ${w.shape[1]} columns`;
  if (!sizes && w.shape[1]! % 3) return `weights' ${w.shape[1]} columns are not three equal parts`;
  if (n.inputs[3]) {
    const form = maskForm(g, n.inputs[3], declaredShape(g, n.inputs[0]!)?.[0]);
    if (form !== 'raw' && form !== 'lengths') return form;
  }
  return undefined;
}

/**
 * Rewrite the com.microsoft Attention `n` (weight a float initializer) in place into MatMul + Add
 * bias + Split + MultiHeadAttention, or return why it stays fused: a past / present cache, a
 * mask_index form MultiHeadAttention reads otherwise (3-D, 4-D, start-and-end positions, unknown),
 * rotary embedding. `opset` is the default domain's, for Split's form.
 */
export function decomposeAttention(g: Graph, n: Node, names: NameGenerator, opset: number): DecomposedAttention | string {
  const why = refusal(g, n);
  if (why) return why;
  const w = g.initializers.get(n.inputs[1]!)!;
  const sizes = getInts(n, 'qkv_hidden_sizes') ?? [w.shape[1]! / 3, w.shape[1]! / 3, w.shape[1]! / 3];
  const base = n.name || n.outputs[0]!;
  const mm = names.value(`${base}_qkv_matmul`);
  const nodes: Node[] = [createNode('MatMul', [n.inputs[0]!, n.inputs[1]!], [mm], {}, { name: names.node(`${base}_qkv_MatMul`) })];
  let qkv = mm;
  const bias = n.inputs[2] || undefined;
  if (bias) {
    qkv = names.value(`${base}_qkv`);
    nodes.push(createNode('Add', [mm, bias], [qkv], {}, { name: names.node(`${base}_qkv_Add`) }));
  }
  const parts = ['q', 'k', 'v'].map((p) => names.value(`${base}_${p}`));
  const axis: AttributeValue = { type: 'int', value: 2 };
  if (opset >= 13) {
    const split = names.value(`${base}_qkv_sizes`);
    g.initializers.set(split, T.tensor(BigInt64Array.from(sizes, BigInt), [3], 'int64', { backend: 'cpu' }));
    nodes.push(createNode('Split', [qkv, split], parts, { axis }, { name: names.node(`${base}_qkv_Split`) }));
  } else {
    nodes.push(createNode('Split', [qkv], parts, { axis, split: { type: 'ints', value: sizes } }, { name: names.node(`${base}_qkv_Split`) }));
  }
  const attrs: Record<string, AttributeValue> = {};
  for (const k of ['num_heads', 'scale', 'mask_filter_value', 'unidirectional']) {
    const a = n.attributes.get(k);
    if (a) attrs[k] = a;
  }
  const mhaInputs = [...parts, '', n.inputs[3] ?? '', n.inputs[5] ?? ''];
  while (mhaInputs[mhaInputs.length - 1] === '') mhaInputs.pop();
  nodes.push(createNode('MultiHeadAttention', mhaInputs, [n.outputs[0]!], attrs, { name: names.node(n.name || 'MultiHeadAttention'), domain: 'com.microsoft' }));
  g.nodes.splice(g.nodes.indexOf(n), 1, ...nodes);
  return { original: n, nodes: nodes.map((x) => x.name), weight: n.inputs[1]!, ...(bias ? { bias } : {}) };
}

/**
 * Put the Attention of `r` back when its nodes are still chained as written (MatMul reading the
 * float weight, its result read only by the Add / Split, the three parts only by
 * MultiHeadAttention as query, key and value). Returns whether it did.
 */
export function recomposeAttention(g: Graph, r: DecomposedAttention): boolean {
  const chain = r.nodes.map((name) => g.nodes.find((n) => n.name === name));
  if (chain.some((n) => !n)) return false;
  const nodes = chain as Node[];
  const [mm, mha] = [nodes[0]!, nodes[nodes.length - 1]!];
  const add = r.bias ? nodes[1]! : undefined;
  const split = nodes[nodes.length - 2]!;
  const w = g.initializers.get(r.weight);
  if (mm.opType !== 'MatMul' || mm.inputs[1] !== r.weight || !w || !T.isFloat(w.dtype)) return false;
  if (add && (add.opType !== 'Add' || add.inputs[0] !== mm.outputs[0] || add.inputs[1] !== r.bias)) return false;
  const uses = buildUseIndex(g);
  const only = (value: string, reader: Node, slot: number): boolean => {
    const u = uses.consumers.get(value) ?? [];
    return !uses.graphOutputs.has(value) && u.length === 1 && u[0]!.node === reader && reader.inputs[slot] === value;
  };
  if (!only(mm.outputs[0]!, add ?? split, 0) || (add && !only(add.outputs[0]!, split, 0))) return false;
  if (split.opType !== 'Split' || mha.opType !== 'MultiHeadAttention' || !split.outputs.every((o, i) => only(o, mha, i))) return false;
  // a step may have changed the head count (head pruning slices the packed weight, the Split sizes
  // and num_heads together): the fused node takes what the graph says now
  const sizes = splitSizes(g, split);
  if (!sizes || sizes.length !== 3 || w.shape[1] !== sizes[0]! + sizes[1]! + sizes[2]!) return false;
  const attributes = new Map(r.original.attributes);
  const heads = mha.attributes.get('num_heads');
  if (heads) attributes.set('num_heads', heads);
  if (attributes.has('qkv_hidden_sizes') || sizes[0] !== sizes[1] || sizes[1] !== sizes[2]) attributes.set('qkv_hidden_sizes', { type: 'ints', value: sizes });
  const inputs = [mm.inputs[0]!, r.weight, r.bias ?? '', mha.inputs[4] ?? '', '', mha.inputs[5] ?? ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const fused = createNode('Attention', inputs, [...mha.outputs], attributes, { name: r.original.name, domain: r.original.domain });
  // in MultiHeadAttention's place: the mask and attention_bias are defined before it
  g.nodes.splice(g.nodes.indexOf(mha), 1, fused);
  for (const n of nodes.slice(0, -1)) g.nodes.splice(g.nodes.indexOf(n), 1);
  for (const x of split.inputs.slice(1)) if (g.initializers.has(x) && !(buildUseIndex(g).consumers.get(x) ?? []).length) g.initializers.delete(x);
  for (const n of nodes.slice(0, -1)) for (const o of n.outputs) g.valueInfo.delete(o);
  return true;
}

/** The sizes of a Split along its axis: its `split` input (an initializer) or attribute. */
function splitSizes(g: Graph, split: Node): number[] | undefined {
  const name = split.inputs[1];
  if (name) {
    const t = g.initializers.get(name);
    return t ? Array.from(t.dataSync() as ArrayLike<number | bigint>, Number) : undefined;
  }
  const a = split.attributes.get('split');
  return a?.type === 'ints' ? [...a.value] : undefined;
}
