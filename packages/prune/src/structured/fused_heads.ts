import { type Graph, type Model, type Node, type UseIndex, type ValueInfo, NameGenerator, buildUseIndex } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, floatValues, initializerUseCounts } from '../layers.js';
import { sliceAxis } from './slice.js';

/**
 * Head pruning for onnxruntime's fused attention ops: com.microsoft MultiHeadAttention (as
 * onnxruntime's optimizer writes it, and as the front end rewrites a com.microsoft Attention with
 * a constant QKV weight) and com.microsoft GroupQueryAttention (onnxruntime-genai's model
 * builder). The heads live in the column blocks of the Q/K/V projection weights feeding the op and
 * in the row blocks of the output projection after it; the op itself only needs its head counts.
 */

const MS = 'com.microsoft';

/** Which head set a block of columns (or rows) belongs to. */
type Role = 'q' | 'k' | 'v' | 'out';

/** Columns (or rows, for the output projection) `offset … offset + heads·headDim` of an initializer, by head. */
export interface HeadSegment {
  init: string;
  /** The axis holding the heads (last for weights and biases, 0 for the output projection). */
  axis: number;
  offset: number;
  role: Role;
  headDim: number;
}

/** A Split of a packed projection into q, k, v whose sizes are rewritten on pruning. */
export interface SplitEdit {
  node: string;
  /** The int64 sizes initializer (input 1), or undefined when the sizes are the `split` attribute. */
  init?: string;
  /** Head dims of the three parts, in order (their head counts follow the q / kv heads kept). */
  parts: [Role, number][];
}

/** One fused attention whose heads can be removed, in whole groups of one KV head and its query heads. */
export interface FusedAttentionBlock {
  /** Name of the MultiHeadAttention / GroupQueryAttention node (the block's label). */
  node: string;
  op: 'MultiHeadAttention' | 'GroupQueryAttention';
  /** Query heads. */
  heads: number;
  /** Key/value heads (= heads for MultiHeadAttention); a group is one of them and heads / kvHeads query heads. */
  kvHeads: number;
  /** Head size of queries and keys, and of values (the output projection's row blocks). */
  qkDim: number;
  vDim: number;
  segments: HeadSegment[];
  splits: SplitEdit[];
  /** Packed projection weights read through a Split (see {@link removeFusedHeads}). */
  packed: string[];
  /** Graph inputs / outputs whose declared dim 1 is the KV head count (the KV cache). */
  cache: string[];
  /** Values whose shape changes (their value_info is dropped). */
  values: string[];
}

/** What {@link analyzeFusedHeads} finds. */
export interface FusedHeadAnalysis {
  blocks: FusedAttentionBlock[];
  /** Fused attention nodes whose heads cannot be removed, with the reason. */
  skipped: { node: string; op: string; reason: string }[];
}

class NotPrunable extends Error {}

const int = (n: Node, name: string): number | undefined => {
  const a = n.attributes.get(name);
  return a?.type === 'int' ? Number(a.value) : undefined;
};

function intValues(g: Graph, name: string): number[] | undefined {
  const t = g.initializers.get(name);
  if (!t || (t.dtype !== 'int64' && t.dtype !== 'int32')) return undefined;
  return Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
}

/**
 * Find com.microsoft MultiHeadAttention and GroupQueryAttention nodes whose heads can be removed:
 * query / key / value each the output of a MatMul with its own [K, N] weight initializer (with an
 * optional bias Add), or the three outputs of a Split of one such projection (the front end's
 * decomposed Attention), or for GroupQueryAttention one packed QKV projection as the query with
 * key and value absent; MultiHeadAttention's own packed `bias` input; the output read only by an
 * output-projection MatMul with its own weight. GroupQueryAttention's KV cache must be graph
 * inputs / outputs (their declared head count is rewritten) or absent.
 */
export function analyzeFusedHeads(model: Model): FusedHeadAnalysis {
  const g = model.graph;
  const idx = buildUseIndex(g);
  const uses = initializerUseCounts(model);
  const blocks: FusedAttentionBlock[] = [];
  const skipped: { node: string; op: string; reason: string }[] = [];
  for (const n of g.nodes.filter((x) => x.domain === MS && (x.opType === 'MultiHeadAttention' || x.opType === 'GroupQueryAttention'))) {
    try {
      blocks.push(traceFused(g, idx, uses, n));
    } catch (e) {
      if (!(e instanceof NotPrunable)) throw e;
      skipped.push({ node: n.name, op: n.opType, reason: e.message });
    }
  }
  const seen = new Set<string>();
  const ok = blocks.filter((b) => {
    const keys = [...new Set(b.segments.map((s) => s.init))];
    if (keys.some((k) => seen.has(k))) {
      skipped.push({ node: b.node, op: b.op, reason: 'shares weights with another attention block' });
      return false;
    }
    for (const k of keys) seen.add(k);
    return true;
  });
  return { blocks: ok, skipped };
}

function traceFused(g: Graph, idx: UseIndex, uses: Map<string, number>, n: Node): FusedAttentionBlock {
  const gqa = n.opType === 'GroupQueryAttention';
  const producer = (v: string): Node | undefined => idx.producers.get(v)?.node;
  const consumers = (v: string): number => (idx.consumers.get(v) ?? []).length + (idx.graphOutputs.has(v) ? 1 : 0);
  const own = (x: string | undefined): x is string => !!x && g.initializers.has(x) && uses.get(x) === 1;
  const heads = int(n, 'num_heads');
  if (!heads) throw new NotPrunable(`${n.opType} '${n.name}' has no num_heads`);
  const kvHeads = gqa ? int(n, 'kv_num_heads') : heads;
  if (!kvHeads || heads % kvHeads) throw new NotPrunable(`kv_num_heads ${String(kvHeads)} does not divide num_heads ${heads}`);
  if (kvHeads < 2) throw new NotPrunable(gqa ? 'a single KV head (one group)' : 'a single head');
  const [q, k, v] = [n.inputs[0] || '', n.inputs[1] || '', n.inputs[2] || ''];
  if (!q) throw new NotPrunable('no query input');
  if (gqa) {
    if (n.inputs[10] || n.inputs[11]) throw new NotPrunable('attention_bias / head_sink inputs carry a head axis');
    if (n.outputs[3]) throw new NotPrunable('output_qk is read');
  } else {
    if (n.inputs[6] || n.inputs[7] || n.outputs[1] || n.outputs[2]) throw new NotPrunable('past / present key-value inputs or outputs');
    if (!k || !v) throw new NotPrunable('key or value absent (a packed QKV or KV input)');
    const ab = n.inputs[5];
    if (ab) {
      const s = (g.inputs.find((x) => x.name === ab) ?? g.valueInfo.get(ab))?.type?.shape;
      if (s?.[1] !== 1) throw new NotPrunable('attention_bias may carry a head axis');
    }
  }
  const values: string[] = [n.outputs[0]!];
  /** MatMul(x, W) (+ Add bias) producing `value`: its weight and bias. */
  const projection = (value: string, width: number | undefined, what: string): { weight: string; bias?: string; values: string[] } => {
    const seenValues = [value];
    let p = producer(value);
    let bias: string | undefined;
    if (p?.opType === 'Add') {
      const bi = p.inputs.findIndex((i) => own(i));
      const mm = bi >= 0 ? p.inputs[1 - bi] : undefined;
      const bt = bi >= 0 ? g.initializers.get(p.inputs[bi]!) : undefined;
      if (!bt || !mm || bt.shape[bt.rank - 1] !== bt.size) throw new NotPrunable(`${what} bias Add '${p.name}' has no own 1-D bias initializer`);
      if (consumers(mm) !== 1) throw new NotPrunable(`${what} MatMul output '${mm}' has other readers`);
      bias = p.inputs[bi]!;
      seenValues.push(mm);
      p = producer(mm);
    }
    const w = p?.inputs[1];
    const wt = w ? g.initializers.get(w) : undefined;
    if (p?.opType !== 'MatMul' || !own(w) || wt?.rank !== 2) throw new NotPrunable(`${what} is not a MatMul with its own [K, N] weight`);
    if (width !== undefined && wt.shape[1] !== width) throw new NotPrunable(`${what} weight has ${wt.shape[1]} columns, expected ${width}`);
    if (bias && g.initializers.get(bias)!.size !== wt.shape[1]) throw new NotPrunable(`${what} bias does not match the weight's ${wt.shape[1]} columns`);
    return { weight: w, ...(bias ? { bias } : {}), values: seenValues };
  };
  const segments: HeadSegment[] = [];
  const splits: SplitEdit[] = [];
  const packed: string[] = [];
  const addProjection = (pr: { weight: string; bias?: string }, parts: [Role, number, number][]): void => {
    // parts: role, head count, head dim, in column order
    let off = 0;
    for (const [role, count, dim] of parts) {
      segments.push({ init: pr.weight, axis: 1, offset: off, role, headDim: dim });
      if (pr.bias) segments.push({ init: pr.bias, axis: g.initializers.get(pr.bias)!.rank - 1, offset: off, role, headDim: dim });
      off += count * dim;
    }
  };
  let qkDim: number;
  let vDim: number;
  const qProducer = producer(q);
  if (gqa && !k && !v) {
    // packed QKV: query = x·[Wq | Wk | Wv]
    if (consumers(q) !== 1) throw new NotPrunable(`packed QKV '${q}' has other readers`);
    const pr = projection(q, undefined, 'packed QKV projection');
    const cols = g.initializers.get(pr.weight)!.shape[1]!;
    if (cols % (heads + 2 * kvHeads)) throw new NotPrunable(`packed QKV weight's ${cols} columns do not split into ${heads} + 2·${kvHeads} heads`);
    qkDim = vDim = cols / (heads + 2 * kvHeads);
    addProjection(pr, [['q', heads, qkDim], ['k', kvHeads, qkDim], ['v', kvHeads, qkDim]]);
    values.push(...pr.values);
  } else if (!k || !v) {
    throw new NotPrunable('key or value absent without a packed query');
  } else if (qProducer?.opType === 'Split' && producer(k) === qProducer && producer(v) === qProducer) {
    // the front end's decomposed Attention: x·[Wq | Wk | Wv] (+ bias) → Split → q, k, v
    const sp = qProducer;
    if (sp.outputs.length !== 3 || sp.outputs[0] !== q || sp.outputs[1] !== k || sp.outputs[2] !== v) throw new NotPrunable(`Split '${sp.name}' outputs are not query, key, value in order`);
    if (sp.outputs.some((o) => consumers(o) !== 1)) throw new NotPrunable(`outputs of Split '${sp.name}' have other readers`);
    const axis = int(sp, 'axis') ?? 0;
    if (axis !== 2 && axis !== -1) throw new NotPrunable(`Split '${sp.name}' is not along the hidden axis`);
    const sizesInit = sp.inputs[1] || undefined;
    const attr = sp.attributes.get('split');
    const sizes = sizesInit ? intValues(g, sizesInit) : attr?.type === 'ints' ? attr.value.map(Number) : undefined;
    if (!sizes || sizes.length !== 3) throw new NotPrunable(`Split '${sp.name}' has no constant sizes`);
    if (consumers(sp.inputs[0]!) !== 1) throw new NotPrunable(`packed QKV '${sp.inputs[0]}' has other readers`);
    const pr = projection(sp.inputs[0]!, sizes[0]! + sizes[1]! + sizes[2]!, 'packed QKV projection');
    qkDim = sizes[0]! / heads;
    vDim = sizes[2]! / kvHeads;
    if (!Number.isInteger(qkDim) || !Number.isInteger(vDim) || sizes[1] !== kvHeads * qkDim || (gqa && vDim !== qkDim)) {
      throw new NotPrunable(`Split sizes [${sizes.join(', ')}] do not split into ${heads} query and ${kvHeads} key/value heads of one size`);
    }
    addProjection(pr, [['q', heads, qkDim], ['k', kvHeads, qkDim], ['v', kvHeads, vDim]]);
    splits.push({ node: sp.name, ...(sizesInit ? { init: sizesInit } : {}), parts: [['q', qkDim], ['k', qkDim], ['v', vDim]] });
    packed.push(pr.weight);
    values.push(...pr.values, q, k, v);
  } else {
    for (const x of [q, k, v]) if (consumers(x) !== 1) throw new NotPrunable(`'${x}' has other readers`);
    const pq = projection(q, undefined, 'query projection');
    const pk = projection(k, undefined, 'key projection');
    const pv = projection(v, undefined, 'value projection');
    const [wq, wk, wv] = [pq, pk, pv].map((p) => g.initializers.get(p.weight)!.shape[1]!) as [number, number, number];
    if (wq % heads || wk % kvHeads || wv % kvHeads) throw new NotPrunable(`projection widths ${wq}, ${wk}, ${wv} do not split into ${heads} query and ${kvHeads} key/value heads`);
    qkDim = wq / heads;
    vDim = wv / kvHeads;
    if (wk / kvHeads !== qkDim) throw new NotPrunable(`key head size ${wk / kvHeads} differs from the query's ${qkDim}`);
    if (gqa && vDim !== qkDim) throw new NotPrunable(`value head size ${vDim} differs from the query's ${qkDim}`);
    addProjection(pq, [['q', heads, qkDim]]);
    addProjection(pk, [['k', kvHeads, qkDim]]);
    addProjection(pv, [['v', kvHeads, vDim]]);
    values.push(...pq.values, ...pk.values, ...pv.values);
  }
  if (!gqa && n.inputs[3]) {
    // MultiHeadAttention's own packed bias [Dq + Dk + Dv]
    const b = n.inputs[3];
    if (!own(b) || g.initializers.get(b)!.size !== (2 * qkDim + vDim) * heads) throw new NotPrunable(`bias input '${b}' is not its own [${(2 * qkDim + vDim) * heads}] initializer`);
    addProjection({ weight: b }, [['q', heads, qkDim], ['k', heads, qkDim], ['v', heads, vDim]]);
    // addProjection puts weights on axis 1; a bias has one axis
    for (const s of segments) if (s.init === b) s.axis = 0;
  }
  // the output projection reads the context [B, S, heads·vDim]
  const outUse = idx.consumers.get(n.outputs[0]!) ?? [];
  const om = outUse[0]?.node;
  const ow = om?.inputs[1];
  const owt = ow ? g.initializers.get(ow) : undefined;
  if (outUse.length !== 1 || idx.graphOutputs.has(n.outputs[0]!) || om?.opType !== 'MatMul' || outUse[0]!.input !== 0 || !own(ow) || owt?.rank !== 2 || owt.shape[0] !== heads * vDim) {
    throw new NotPrunable(`output is not read only by an output-projection MatMul with its own [${heads * vDim}, N] weight`);
  }
  segments.push({ init: ow, axis: 0, offset: 0, role: 'out', headDim: vDim });
  // the KV cache: GroupQueryAttention's past_key / past_value inputs and present outputs
  const cache: string[] = [];
  if (gqa) {
    for (const x of [n.inputs[3], n.inputs[4]]) {
      if (!x) continue;
      if (!g.inputs.some((i) => i.name === x)) throw new NotPrunable(`past key/value '${x}' is not a graph input`);
      if ((idx.consumers.get(x) ?? []).some((u) => u.node !== n)) throw new NotPrunable(`past key/value '${x}' has other readers`);
      cache.push(x);
    }
    for (const x of [n.outputs[1], n.outputs[2]]) {
      if (!x) continue;
      if ((idx.consumers.get(x) ?? []).length) throw new NotPrunable(`present key/value '${x}' is read inside the graph`);
      if (idx.graphOutputs.has(x)) cache.push(x);
      values.push(x);
    }
  }
  return { node: n.name, op: gqa ? 'GroupQueryAttention' : 'MultiHeadAttention', heads, kvHeads, qkDim, vDim, segments, splits, packed, cache, values: [...new Set(values)] };
}

const heads = (b: FusedAttentionBlock, role: Role): number => (role === 'k' || role === 'v' ? b.kvHeads : b.heads);

/**
 * Importance of each group (one KV head with its heads / kvHeads query heads): like the unfused
 * heads' score, the L2 norm of each head's Q, K, V columns and output-projection rows, each
 * normalized by its mean over heads; a group adds its KV head's K and V terms and the mean of its
 * query heads' Q and output terms. Biases do not count.
 */
export async function fusedGroupScores(model: Model, b: FusedAttentionBlock): Promise<Float64Array> {
  const g = model.graph;
  const r = b.heads / b.kvHeads;
  const out = new Float64Array(b.kvHeads);
  for (const s of b.segments) {
    const t = g.initializers.get(s.init)!;
    if (t.rank !== 2) continue;
    const v = await floatValues(t);
    const [rows, cols] = [t.shape[0]!, t.shape[1]!];
    const count = heads(b, s.role);
    const norms = new Float64Array(count);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const at = (s.axis === 1 ? j : i) - s.offset;
        if (at < 0 || at >= count * s.headDim) continue;
        norms[Math.floor(at / s.headDim)]! += v[i * cols + j]! ** 2;
      }
    }
    let mean = 0;
    for (let h = 0; h < count; h++) mean += Math.sqrt(norms[h]!) / count;
    for (let h = 0; h < count; h++) {
      const x = mean > 0 ? Math.sqrt(norms[h]!) / mean : 0;
      if (count === b.kvHeads) out[h]! += x;
      else out[Math.floor(h / r)]! += x / r;
    }
  }
  return out;
}

/** Query heads of the groups in `groups` (ascending). */
export function queryHeadsOf(b: FusedAttentionBlock, groups: Iterable<number>): number[] {
  const r = b.heads / b.kvHeads;
  return [...groups].sort((x, y) => x - y).flatMap((grp) => Array.from({ length: r }, (_, j) => grp * r + j));
}

/**
 * Remove the groups `removed` of block `b` in place in `g` (a clone): slice the Q, K, V weight
 * columns and biases and the output-projection rows, rewrite the Split sizes of a packed
 * projection, set num_heads (and kv_num_heads), and rewrite the KV cache's declared head count.
 * A packed weight read through a Split is written under a new name: the run's front end puts a
 * decomposed Attention back after the last step only when its weight is the one it decomposed,
 * and that Attention would carry the old head count.
 */
export async function removeFusedHeads(g: Graph, b: FusedAttentionBlock, removed: ReadonlySet<number>): Promise<void> {
  const qGone = new Set(queryHeadsOf(b, removed));
  const gone = (role: Role, h: number): boolean => (role === 'k' || role === 'v' ? removed.has(h) : qGone.has(h));
  const keptQ = b.heads - qGone.size;
  const keptKv = b.kvHeads - removed.size;
  const byInit = new Map<string, HeadSegment[]>();
  for (const s of b.segments) byInit.set(s.init, [...(byInit.get(s.init) ?? []), s]);
  const names = new NameGenerator(g);
  for (const [name, segs] of byInit) {
    const t = g.initializers.get(name)!;
    const axis = segs[0]!.axis;
    const keep: number[] = [];
    for (let i = 0; i < t.shape[axis]!; i++) {
      const s = segs.find((x) => i >= x.offset && i < x.offset + heads(b, x.role) * x.headDim);
      if (!s || !gone(s.role, Math.floor((i - s.offset) / s.headDim))) keep.push(i);
    }
    const sliced = sliceAxis(await floatValues(t), t.shape, axis, keep);
    const fresh = cpuTensor(sliced.values, sliced.shape, t.dtype);
    g.initializers.set(name, fresh);
  }
  for (const e of b.splits) {
    const node = g.nodes.find((n) => n.name === e.node)!;
    const sizes = e.parts.map(([role, dim]) => (role === 'q' ? keptQ : keptKv) * dim);
    if (e.init) {
      const fresh = names.value(`${e.init}_pruned`);
      g.initializers.set(fresh, tensor(BigInt64Array.from(sizes, BigInt), [3], 'int64', { backend: 'cpu' }));
      node.inputs[1] = fresh;
    } else {
      node.attributes.set('split', { type: 'ints', value: sizes });
    }
  }
  const att = g.nodes.find((n) => n.name === b.node)!;
  att.attributes.set('num_heads', { type: 'int', value: keptQ });
  if (b.op === 'GroupQueryAttention') att.attributes.set('kv_num_heads', { type: 'int', value: keptKv });
  const reshape = (vi: ValueInfo): ValueInfo => {
    const t = vi.type;
    if (t?.kind !== 'tensor' || !t.shape || t.shape.length !== 4 || t.shape[1] !== b.kvHeads) return vi;
    return { ...vi, type: { ...t, shape: [t.shape[0]!, keptKv, ...t.shape.slice(2)] } };
  };
  g.inputs = g.inputs.map((vi) => (b.cache.includes(vi.name) ? reshape(vi) : vi));
  g.outputs = g.outputs.map((vi) => (b.cache.includes(vi.name) ? reshape(vi) : vi));
  for (const v of b.values) g.valueInfo.delete(v);
}
