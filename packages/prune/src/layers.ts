import { type Graph, type GraphScope, type Model, type Node, buildUseIndex, getInt, graphScopes, scopedName } from '@whittle/graph';
import { type Tensor, float16ToFloat32Array, float32BitsToFloat16, tensor } from '@whittle/tensor';

/**
 * A weight a pruning pass can sparsify: the initializer read by a Conv, Gemm or MatMul node,
 * seen as a matrix of `rows` outputs × `cols` inputs (Conv: `cols` = in-channels/group × kernel).
 */
export interface PrunableWeight {
  /** Node name (or `op#index` when the node has none). */
  node: string;
  opType: 'Conv' | 'Gemm' | 'MatMul';
  /** Initializer name. */
  weight: string;
  /** Input name of the node's data operand (what Wanda collects activation norms of). */
  input: string;
  shape: readonly number[];
  /** Output units (Conv filters, Gemm/MatMul output neurons). */
  rows: number;
  /** Inputs per output unit. */
  cols: number;
  /**
   * Storage layout: 'row' = element (r, c) at `r * cols + c` (Conv, Gemm transB=1);
   * 'col' = at `c * rows + r` (MatMul [K, N], Gemm transB=0).
   */
  layout: 'row' | 'col';
  /** Axis of the weight tensor that holds the input dimension (for N:M groups). */
  inputAxis: number;
  /** Subgraph path (`If_0/then_branch`) when the weight lives in an If/Loop/Scan body. */
  scope?: string;
  /** The graph holding the weight when it is a subgraph (else the model's main graph). */
  graph?: Graph;
  /** Key of the weight in masks and reports: the initializer name, `path: name` inside a subgraph. */
  key?: string;
  /** Element type of the stored weight (absent: float32). Pruned values are written back in it. */
  dtype?: PrunableDType;
}

/** Mask/report key of a weight: its name, or `path: name` in a subgraph. */
export function weightKey(w: PrunableWeight): string {
  return w.key ?? w.weight;
}

/** The tensor of a prunable weight. */
export function weightTensor(model: Model, w: PrunableWeight): Tensor {
  return (w.graph ?? model.graph).initializers.get(w.weight)!;
}

/**
 * The graph and initializer name a mask key refers to in `model` (main graph first, then the
 * subgraph whose path is the longest prefix of `key` followed by ': ').
 */
export function resolveWeightKey(model: Model, key: string): { graph: Graph; name: string } | undefined {
  if (model.graph.initializers.has(key)) return { graph: model.graph, name: key };
  let best: { graph: Graph; name: string; len: number } | undefined;
  for (const s of graphScopes(model.graph)) {
    if (!s.path || !key.startsWith(`${s.path}: `)) continue;
    const name = key.slice(s.path.length + 2);
    if (s.graph.initializers.has(name) && (!best || s.path.length > best.len)) best = { graph: s.graph, name, len: s.path.length };
  }
  return best && { graph: best.graph, name: best.name };
}

/** Flat index of element (r, c) of a prunable weight. */
export function flatIndex(w: PrunableWeight, r: number, c: number): number {
  return w.layout === 'row' ? r * w.cols + c : c * w.rows + r;
}

/** Label of a node for reports. */
export function nodeName(n: Node, i: number): string {
  return n.name || `${n.opType}#${i}`;
}

function isDefault(n: Node): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

/**
 * The float32 weights of Conv/Gemm/MatMul nodes in `model` (initializers only; a weight shared by
 * several nodes is listed once, for its first consumer). `include`/`exclude` filter by node or
 * initializer name. With `subgraphs`, weights read inside If/Loop/Scan bodies are listed too, with
 * `scope` (the body whose node reads it), `graph` (the graph that stores it: the body, or an
 * enclosing graph when the body reads an outer-scope initializer, as both branches of an Optimum
 * merged decoder do) and `key` (`path: name` of the storing graph; the bare name in the main graph).
 */
export function findPrunableWeights(model: Model, opts: { include?: readonly string[] | undefined; exclude?: readonly string[] | undefined; subgraphs?: boolean; dtypes?: readonly PrunableDType[] } = {}): PrunableWeight[] {
  const dtypes = opts.dtypes ?? ['float32', 'float16'];
  const out: PrunableWeight[] = [];
  const scopes: GraphScope[] = opts.subgraphs ? graphScopes(model.graph) : [{ graph: model.graph, path: '' }];
  // keys of weights already listed, across scopes: an outer-scope weight is pruned once
  const seen = new Set<string>();
  for (const s of scopes) {
    const g = s.graph;
    g.nodes.forEach((n, i) => {
      if (!isDefault(n)) return;
      const w = n.inputs[1];
      // the innermost graph storing the weight: this one, else an enclosing one (outer scope)
      let at: GraphScope | undefined = s;
      while (at && w && !at.graph.initializers.has(w)) at = at.parent;
      if (!at) return;
      const p = describeWeight(at.graph, n, i, dtypes);
      if (!p) return;
      const node = scopedName(s, p.node);
      const key = scopedName(at, p.weight);
      if (seen.has(key)) return;
      const names = [p.node, p.weight, node, key];
      if (opts.include?.length && !names.some((x) => opts.include!.includes(x))) return;
      if (names.some((x) => opts.exclude?.includes(x))) return;
      seen.add(key);
      out.push(s.path ? { ...p, node, scope: s.path, graph: at.graph, key } : p);
    });
  }
  return out;
}

/** `n`'s weight as a prunable matrix, its initializer looked up in `g` (the graph storing it). */
function describeWeight(g: Graph, n: Node, i: number, dtypes: readonly PrunableDType[]): PrunableWeight | undefined {
  const name = nodeName(n, i);
  const wName = n.inputs[1];
  if (!wName) return undefined;
  const w = g.initializers.get(wName);
  if (!w || !(dtypes as readonly string[]).includes(w.dtype)) return undefined;
  const withType = (p: PrunableWeight): PrunableWeight => (w.dtype === 'float16' ? { ...p, dtype: 'float16' } : p);
  const s = w.shape;
  const input = n.inputs[0] ?? '';
  if (n.opType === 'Conv' && s.length >= 3) {
    const cols = s.slice(1).reduce((a, b) => a * b, 1);
    return withType({ node: name, opType: 'Conv', weight: wName, input, shape: s, rows: s[0]!, cols, layout: 'row', inputAxis: 1 });
  }
  if (n.opType === 'Gemm' && s.length === 2 && !getInt(n, 'transA', 0)) {
    const tb = getInt(n, 'transB', 0) === 1;
    return withType(tb
      ? { node: name, opType: 'Gemm', weight: wName, input, shape: s, rows: s[0]!, cols: s[1]!, layout: 'row', inputAxis: 1 }
      : { node: name, opType: 'Gemm', weight: wName, input, shape: s, rows: s[1]!, cols: s[0]!, layout: 'col', inputAxis: 0 });
  }
  if (n.opType === 'MatMul' && s.length === 2) {
    return withType({ node: name, opType: 'MatMul', weight: wName, input, shape: s, rows: s[1]!, cols: s[0]!, layout: 'col', inputAxis: 0 });
  }
  return undefined;
}

/** Float32 values of a cpu (or any-backend) tensor, as a fresh copy (float16 and others decoded). */
export async function floatValues(t: Tensor): Promise<Float32Array> {
  const d = await t.data();
  if (t.dtype === 'float32') return Float32Array.from(d as Float32Array);
  // one pass over a float16 weight's bits (no float64 copy of a large tensor)
  if (t.dtype === 'float16') return float16ToFloat32Array(d as Uint16Array);
  return Float32Array.from(await t.toFloat64());
}

/** Element types of the weights pruning reads and writes. */
export type PrunableDType = 'float32' | 'float16';

/**
 * A new cpu tensor of `values`: float32, or float16 (rounded to nearest even) when `dtype` says
 * so — a pruned float16 model keeps its float16 weights.
 */
export function cpuTensor(values: Float32Array, shape: readonly number[], dtype: string = 'float32'): Tensor {
  if (dtype !== 'float16') return tensor(values, [...shape], 'float32', { backend: 'cpu' });
  const bits = new Uint16Array(values.length);
  float32BitsToFloat16(new Uint32Array(values.buffer, values.byteOffset, values.length), bits);
  return tensor(bits, [...shape], 'float16', { backend: 'cpu' });
}

/** Number of consumers of each initializer (shared weights are pruned once). */
export function initializerUseCounts(model: Model): Map<string, number> {
  const idx = buildUseIndex(model.graph);
  const m = new Map<string, number>();
  for (const k of model.graph.initializers.keys()) m.set(k, new Set((idx.consumers.get(k) ?? []).map((u) => u.node)).size);
  return m;
}

/** Count of exact zeros. */
export function countZeros(v: Float32Array): number {
  let z = 0;
  for (let i = 0; i < v.length; i++) if (v[i] === 0) z++;
  return z;
}

/** Pack a keep-mask (1 = kept) into a base64 bitmap (LSB first), for reports. */
export function packMask(mask: Uint8Array): string {
  const bytes = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) bytes[i >> 3]! |= 1 << (i & 7);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Inverse of {@link packMask}. */
export function unpackMask(b64: string, length: number): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (s.charCodeAt(i >> 3) >> (i & 7)) & 1;
  return out;
}
