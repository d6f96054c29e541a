/**
 * What a decoder's fused attention states about its sizes: onnxruntime's com.microsoft
 * GroupQueryAttention (the layout onnxruntime-genai's model builder writes) carries the query and
 * key/value head counts as attributes and reads rotary cos / sin caches whose rows are the
 * longest sequence it can embed. Browser-safe.
 */
import type { Graph, Model, Node } from '@whittle/graph';
import { LayoutError } from './errors.js';

/** Sizes read from a decoder's GroupQueryAttention nodes. */
export interface FusedAttentionShape {
  /** The op the sizes come from. */
  op: 'GroupQueryAttention';
  /** Number of such nodes (one per layer). */
  nodes: number;
  /** Query heads (`num_heads`). */
  queryHeads: number;
  /** Key/value heads (`kv_num_heads`), the heads of the KV cache. */
  kvHeads: number;
  /** Rows of the rotary cos / sin caches (`do_rotary`): positions the model can embed. */
  rotaryPositions: number | undefined;
}

function allGraphs(g: Graph): Graph[] {
  const out = [g];
  for (const n of g.nodes) for (const a of n.attributes.values()) if (a.type === 'graph') out.push(...allGraphs(a.value));
  return out;
}

function intAttr(n: Node, name: string): number | undefined {
  const a = n.attributes.get(name);
  return a?.type === 'int' ? a.value : undefined;
}

/** Shape of the initializer behind `name`, through Cast / Identity (a float16 model may cast its caches). */
function constantShape(model: Model, g: Graph, name: string): readonly number[] | undefined {
  for (let depth = 0; depth < 4; depth++) {
    const t = g.initializers.get(name) ?? model.graph.initializers.get(name);
    if (t) return t.shape;
    const raw = g.rawInitializers.get(name) ?? model.graph.rawInitializers.get(name);
    if (raw) return raw.dims;
    const p = g.nodes.find((n) => n.outputs.includes(name));
    if (!p || (p.opType !== 'Cast' && p.opType !== 'Identity')) return undefined;
    name = p.inputs[0]!;
  }
  return undefined;
}

/**
 * The GroupQueryAttention sizes of `model`, or undefined when it has none. Every such node must
 * agree on num_heads and kv_num_heads, and the query heads must be a multiple of the key/value
 * heads; `what` names the model in errors.
 */
export function fusedAttentionShape(model: Model, what = 'the model'): FusedAttentionShape | undefined {
  const found: { g: Graph; n: Node }[] = [];
  for (const g of allGraphs(model.graph)) for (const n of g.nodes) if (n.opType === 'GroupQueryAttention' && n.domain === 'com.microsoft') found.push({ g, n });
  if (!found.length) return undefined;
  const heads = new Set(found.map(({ n }) => `${intAttr(n, 'num_heads')}/${intAttr(n, 'kv_num_heads')}`));
  const { n } = found[0]!;
  const queryHeads = intAttr(n, 'num_heads');
  const kvHeads = intAttr(n, 'kv_num_heads');
  if (heads.size !== 1 || queryHeads === undefined || kvHeads === undefined || queryHeads < 1 || kvHeads < 1 || queryHeads % kvHeads !== 0) {
    throw new LayoutError(`${what}: GroupQueryAttention nodes give num_heads / kv_num_heads ${[...heads].join(', ')}; expected one pair, the query heads a multiple of the key/value heads`);
  }
  let rotaryPositions: number | undefined;
  for (const x of found) {
    if (!intAttr(x.n, 'do_rotary') || !x.n.inputs[7]) continue;
    const rows = constantShape(model, x.g, x.n.inputs[7])?.[0];
    if (typeof rows === 'number') rotaryPositions = Math.min(rotaryPositions ?? rows, rows);
  }
  return { op: 'GroupQueryAttention', nodes: found.length, queryHeads, kvHeads, rotaryPositions };
}

/**
 * Whether the LM head reads the token embedding table (`table`, an initializer name): the
 * producer of `logits` (through Casts) is a MatMul / Gemm whose weight is the table, or a
 * Transpose of it.
 */
export function headTiedToEmbedding(model: Model, table: string | undefined, logits = 'logits'): boolean {
  if (!table) return false;
  const g = model.graph;
  const producer = (x: string): Node | undefined => g.nodes.find((n) => n.outputs.includes(x));
  let head = producer(logits);
  while (head?.opType === 'Cast') head = producer(head.inputs[0]!);
  if (!head || (head.opType !== 'MatMul' && head.opType !== 'Gemm')) return false;
  const w = head.inputs[1];
  if (w === table) return true;
  const t = w ? producer(w) : undefined;
  return t?.opType === 'Transpose' && t.inputs[0] === table;
}
