/**
 * Finding the layers a model already computes with int8 weights, in the forms onnxruntime's
 * quantizer writes and Transformers.js ships (`model_quantized.onnx`), and reading each weight
 * back as the float values the model computes with:
 *
 * - dynamic int8: `DynamicQuantizeLinear(x)` → `MatMulInteger(xq, W8, xzp, wzp)` → `Cast` to float
 *   → `Mul` by `Mul(x_scale, w_scale)`; per-tensor or per-column weight scale / zero point;
 * - QDQ weights: `DequantizeLinear(W8, scale, zp)` read only as MatMul weights (B);
 * - int8 tables: `Gather(T8, ids)` → `DequantizeLinear` (per-tensor), and the same table read as
 *   `Transpose(T8)` → `DequantizeLinear` → MatMul B (the LM head tied to the token embedding);
 * - dynamic int8 convolutions: `DynamicQuantizeLinear(x)` → `ConvInteger(xq, W8, xzp, wzp)` → `Cast`
 *   → `Mul(·, Mul(x_scale, w_scale))` with a per-tensor weight scale / zero point.
 *
 * Nothing here changes the model; `requantize_int8.ts` rewrites what is found.
 */
import { type Graph, type Node, getInt, getInts, graphScopes, isDefaultDomain, scopedName } from '@whittle/graph';
import type { Tensor } from '@whittle/tensor';
import { readersOf } from './write_weights.js';

/** An int8 / uint8 weight and its dequantization parameters as stored. */
export interface Int8Weight {
  /** The integer initializer. */
  name: string;
  /** Graph holding it (the main graph for weights shared by both branches of an If). */
  owner: Graph;
  /** `name` with its subgraph path, for reports. */
  label: string;
  dtype: 'int8' | 'uint8';
  /** [rows, cols] as stored: [K, N] for a MatMul weight, [V, D] for a table. */
  shape: [number, number];
  scale: string;
  zeroPoint: string;
  /** Axis the scale / zero point run along when they are 1-D (0 rows, 1 columns); -1 per-tensor. */
  axis: number;
  /** Where the names resolve: the reading graph and its enclosing graphs, innermost first. */
  chain: readonly Graph[];
}

/** A MatMul-like layer whose weight is int8: rewritten to one MatMulNBits. */
export interface Int8Linear {
  form: 'MatMulInteger' | 'DequantizeLinear';
  weight: Int8Weight;
  graph: Graph;
  /** Subgraph path of `graph`. */
  scope: string;
  /** Float activation the layer multiplies (the DynamicQuantizeLinear input, or the MatMul A). */
  input: string;
  /** The float output the layer's readers read. */
  output: string;
  /** The node whose place the MatMulNBits takes. */
  anchor: Node;
  /** Nodes of the layer to drop besides `anchor` (MatMulInteger's Cast and rescaling Mul). */
  drop: Node[];
}

/** A Gather (table rows, dequantized) of an int8 table. */
export interface Int8Gather {
  gather: Node;
  dequantize: Node;
  graph: Graph;
}

/** An int8 token table: its gathers and the MatMuls reading it transposed (a tied LM head). */
export interface Int8Table {
  weight: Int8Weight;
  gathers: Int8Gather[];
  heads: { node: Node; graph: Graph; scope: string }[];
}

/**
 * A dynamic-int8 convolution (per-tensor weight grid): rewritten to `DequantizeLinear(W8)` → `Conv`
 * on float activations, the weight kept int8 (no n-bit Conv exists).
 */
export interface Int8Conv {
  node: Node;
  graph: Graph;
  scope: string;
  /** The float activation (the DynamicQuantizeLinear input). */
  input: string;
  /** The float output the layer's readers read. */
  output: string;
  weight: string;
  /** Float32 weight scale and (optional) zero point initializers, one element each. */
  scale: string;
  zeroPoint: string;
  /** The Cast and rescaling Mul. */
  drop: Node[];
  /** Where the names resolve: the layer's graph and its enclosing graphs, innermost first. */
  chain: readonly Graph[];
}

/** What {@link findInt8Layers} found, and the integer layers it leaves, with why. */
export interface Int8Layers {
  linear: Int8Linear[];
  tables: Int8Table[];
  convs: Int8Conv[];
  left: { op: string; name: string; reason: string }[];
}

interface Scope {
  graph: Graph;
  path: string;
  /** The graph and its enclosing graphs, innermost first. */
  chain: Graph[];
}

const INT8 = new Set(['int8', 'uint8']);

function initializer(chain: readonly Graph[], name: string): { t: Tensor; owner: Graph } | undefined {
  for (const g of chain) {
    const t = g.initializers.get(name);
    if (t) return { t, owner: g };
  }
  return undefined;
}

function producer(chain: readonly Graph[], name: string): Node | undefined {
  for (const g of chain) {
    const n = g.nodes.find((x) => x.outputs.includes(name));
    if (n) return n;
  }
  return undefined;
}

/** The one node reading `name` in `g` (subgraphs included), or undefined when there are more, none, or a graph output. */
function onlyReader(g: Graph, name: string): { node: Node; input: number } | undefined {
  const r = readersOf(g, name);
  return r.outputs === 0 && r.nodes.length === 1 ? r.nodes[0] : undefined;
}

/** Whether `name` is a stored float32 scale of 1 or `n` elements. */
function scaleOk(chain: readonly Graph[], name: string, n: number): boolean {
  const s = initializer(chain, name)?.t;
  return !!s && s.dtype === 'float32' && (s.size === 1 || s.size === n);
}

/** A stored 2-D int8/uint8 weight with its scale and zero point (zero point optional). */
function int8Weight(s: Scope, name: string, scale: string, zeroPoint: string, axis: number): Int8Weight | string {
  const w = initializer(s.chain, name);
  if (!w) return 'weight is not an initializer';
  if (!INT8.has(w.t.dtype)) return `${w.t.dtype} weight`;
  if (w.t.shape.length !== 2) return `rank-${w.t.shape.length} weight (2-D only)`;
  const shape: [number, number] = [w.t.shape[0]!, w.t.shape[1]!];
  const s0 = initializer(s.chain, scale)?.t;
  if (!s0 || s0.dtype !== 'float32') return 'scale is not a float32 initializer';
  const along = s0.size === 1 ? -1 : axis;
  if (along >= 0 && s0.size !== shape[along]) return `scale of ${s0.size} values for a ${shape.join(' × ')} weight`;
  if (zeroPoint) {
    const z = initializer(s.chain, zeroPoint)?.t;
    if (!z || z.dtype !== w.t.dtype || (z.size !== 1 && (along < 0 || z.size !== shape[along]))) return 'zero point is not a matching initializer';
  }
  const label = w.owner === s.graph ? scopedName({ path: s.path }, name) : name;
  return { name, owner: w.owner, label, dtype: w.t.dtype as 'int8' | 'uint8', shape, scale, zeroPoint, axis: along, chain: s.chain };
}

/** The dynamic chain around an integer op: `DynamicQuantizeLinear` → op → `Cast` → `Mul(·, Mul(x_scale, w_scale))`. */
function dynamicChain(s: Scope, n: Node): { d: Node; cast: Node; mul: Node; scale: string } | string {
  const d = producer(s.chain, n.inputs[0] ?? '');
  if (!d || d.opType !== 'DynamicQuantizeLinear' || !isDefaultDomain(d.domain) || d.outputs[0] !== n.inputs[0] || d.outputs[2] !== n.inputs[2]) return 'activation not quantized by DynamicQuantizeLinear';
  const cast = onlyReader(s.graph, n.outputs[0]!);
  if (!cast || cast.node.opType !== 'Cast' || getInt(cast.node, 'to') !== 1) return 'int32 accumulator not cast to float once';
  const mul = onlyReader(s.graph, cast.node.outputs[0]!);
  if (!mul || mul.node.opType !== 'Mul') return 'cast accumulator not rescaled by one Mul';
  const product = producer(s.chain, mul.node.inputs[1 - mul.input] ?? '');
  if (!product || product.opType !== 'Mul') return 'rescaling factor is not x_scale × w_scale';
  const k = product.inputs.indexOf(d.outputs[1]!);
  if (k < 0) return 'rescaling factor does not use the activation scale';
  return { d, cast: cast.node, mul: mul.node, scale: product.inputs[1 - k]! };
}

/** `DynamicQuantizeLinear` → `MatMulInteger` → `Cast` → `Mul(·, Mul(x_scale, w_scale))`. */
function matMulInteger(s: Scope, n: Node): Int8Linear | string {
  const c = dynamicChain(s, n);
  if (typeof c === 'string') return c;
  const w = initializer(s.chain, n.inputs[1] ?? '')?.t;
  if (w?.shape.length === 2 && !scaleOk(s.chain, c.scale, w.shape[1]!)) return 'weight scale is not a float32 initializer of 1 or N values';
  const weight = int8Weight(s, n.inputs[1] ?? '', c.scale, n.inputs[3] ?? '', 1);
  if (typeof weight === 'string') return weight;
  return { form: 'MatMulInteger', weight, graph: s.graph, scope: s.path, input: c.d.inputs[0]!, output: c.mul.outputs[0]!, anchor: n, drop: [c.cast, c.mul] };
}

/** `DynamicQuantizeLinear` → `ConvInteger` → `Cast` → `Mul(·, Mul(x_scale, w_scale))`, per-tensor weight grid. */
function convInteger(s: Scope, n: Node): Int8Conv | string {
  const c = dynamicChain(s, n);
  if (typeof c === 'string') return c;
  const w = initializer(s.chain, n.inputs[1] ?? '')?.t;
  if (!w || !INT8.has(w.dtype)) return 'weight is not an int8 / uint8 initializer';
  if (!scaleOk(s.chain, c.scale, 1)) return 'weight scale is not one float32 value (per-channel convolution grids are kept)';
  const zp = n.inputs[3] ?? '';
  const z = zp ? initializer(s.chain, zp)?.t : undefined;
  if (zp && (!z || z.dtype !== w.dtype || z.size !== 1)) return 'weight zero point is not one value of the weight type';
  return { node: n, graph: s.graph, scope: s.path, input: c.d.inputs[0]!, output: c.mul.outputs[0]!, weight: n.inputs[1]!, scale: c.scale, zeroPoint: zp, drop: [c.cast, c.mul], chain: s.chain };
}

/** `DequantizeLinear(W8)` read only as the B of MatMuls: one layer per MatMul. */
function qdqMatMuls(s: Scope, dq: Node): Int8Linear[] | string {
  if (getInt(dq, 'block_size', 0) > 0) return 'block-wise DequantizeLinear weight';
  const r = readersOf(s.graph, dq.outputs[0]!);
  if (r.outputs || !r.nodes.length || !r.nodes.every((x) => x.node.opType === 'MatMul' && isDefaultDomain(x.node.domain) && x.input === 1)) return 'dequantized weight read by other than MatMul B';
  const w = initializer(s.chain, dq.inputs[0]!)?.t;
  const rank = w?.shape.length ?? 2;
  const axis = getInt(dq, 'axis', 1);
  const weight = int8Weight(s, dq.inputs[0]!, dq.inputs[1] ?? '', dq.inputs[2] ?? '', axis < 0 ? axis + rank : axis);
  if (typeof weight === 'string') return weight;
  // the MatMuls may sit in subgraphs of the DequantizeLinear's graph: each in its own graph
  const graphs = graphScopes(s.graph);
  return r.nodes.map(({ node }) => {
    const at = graphs.find((x) => x.graph.nodes.includes(node))!;
    return { form: 'DequantizeLinear' as const, weight, graph: at.graph, scope: at.path ? `${s.path ? `${s.path}/` : ''}${at.path}` : s.path, input: node.inputs[0]!, output: node.outputs[0]!, anchor: node, drop: [] };
  });
}

/** Scalar dequantization of a table read: `DequantizeLinear(·, scale, zp)` with 1-element scale / zero point. */
function scalarDq(s: Scope, n: Node | undefined): n is Node {
  if (!n || n.opType !== 'DequantizeLinear' || !isDefaultDomain(n.domain) || getInt(n, 'block_size', 0) > 0) return false;
  return initializer(s.chain, n.inputs[1] ?? '')?.t.size === 1 && (!n.inputs[2] || initializer(s.chain, n.inputs[2])?.t.size === 1);
}

/**
 * Every int8 layer of the model in the forms above (subgraphs included; a weight of the main
 * graph read in both branches of an If is one weight). Integer layers of other forms are listed
 * in `left` with why.
 */
export function findInt8Layers(model: { graph: Graph }): Int8Layers {
  const out: Int8Layers = { linear: [], tables: [], convs: [], left: [] };
  const scopes: Scope[] = graphScopes(model.graph).map((sc) => {
    const chain = [sc.graph];
    for (let p = sc.parent; p; p = p.parent) chain.push(p.graph);
    return { graph: sc.graph, path: sc.path, chain };
  });
  // tables: int8 initializers read by Gather → DQ or Transpose → DQ → MatMul B, keyed by owner graph
  const tableReads = new Map<Graph, Map<string, { gathers: Int8Gather[]; transposes: Node[]; heads: Int8Table['heads']; dqs: Node[]; other: number; scope: Scope }>>();
  const tableRead = (s: Scope, name: string) => {
    const w = initializer(s.chain, name);
    if (!w || !INT8.has(w.t.dtype) || w.t.shape.length !== 2) return undefined;
    let m = tableReads.get(w.owner);
    if (!m) tableReads.set(w.owner, (m = new Map()));
    let e = m.get(name);
    if (!e) m.set(name, (e = { gathers: [], transposes: [], heads: [], dqs: [], other: 0, scope: scopes.find((x) => x.graph === w.owner)! }));
    return e;
  };
  for (const s of scopes) {
    for (const n of s.graph.nodes) {
      if (!isDefaultDomain(n.domain)) continue;
      if (n.opType === 'MatMulInteger') {
        const l = matMulInteger(s, n);
        if (typeof l === 'string') out.left.push({ op: n.opType, name: scopedName({ path: s.path }, n.name || n.outputs[0]!), reason: l });
        else out.linear.push(l);
      } else if (n.opType === 'ConvInteger') {
        const c = convInteger(s, n);
        if (typeof c === 'string') out.left.push({ op: n.opType, name: scopedName({ path: s.path }, n.name || n.outputs[0]!), reason: `${c}: kept int8` });
        else out.convs.push(c);
      } else if (n.opType === 'Gather' && getInt(n, 'axis', 0) === 0) {
        const e = tableRead(s, n.inputs[0] ?? '');
        if (!e) continue;
        const dq = onlyReader(s.graph, n.outputs[0]!)?.node;
        if (scalarDq(s, dq) && dq.inputs[0] === n.outputs[0]) {
          e.gathers.push({ gather: n, dequantize: dq, graph: s.graph });
          e.dqs.push(dq);
        } else e.other++;
      } else if (n.opType === 'Transpose') {
        const e = tableRead(s, n.inputs[0] ?? '');
        if (!e) continue;
        const perm = getInts(n, 'perm') ?? [1, 0];
        const dq = onlyReader(s.graph, n.outputs[0]!)?.node;
        const heads = dq ? readersOf(s.graph, dq.outputs[0]!) : undefined;
        if (perm[0] === 1 && perm[1] === 0 && scalarDq(s, dq) && heads && !heads.outputs && heads.nodes.length && heads.nodes.every((x) => x.node.opType === 'MatMul' && x.input === 1 && s.graph.nodes.includes(x.node))) {
          for (const h of heads.nodes) e.heads.push({ node: h.node, graph: s.graph, scope: s.path });
          e.transposes.push(n);
          e.dqs.push(dq!);
        } else e.other++;
      } else if (n.opType === 'DequantizeLinear') {
        const w = initializer(s.chain, n.inputs[0] ?? '');
        if (!w || !INT8.has(w.t.dtype)) continue;
        const l = qdqMatMuls(s, n);
        if (typeof l === 'string') out.left.push({ op: 'DequantizeLinear', name: scopedName({ path: s.path }, n.inputs[0]!), reason: l });
        else out.linear.push(...l);
      }
    }
  }
  for (const [, byName] of tableReads) {
    for (const [name, e] of byName) {
      if (!e.gathers.length && !e.heads.length) continue;
      // every read of the table must be one of the two forms (else its int8 copy stays) with one scale and zero point
      const same = e.dqs.every((d) => d.inputs[1] === e.dqs[0]!.inputs[1] && (d.inputs[2] ?? '') === (e.dqs[0]!.inputs[2] ?? ''));
      const readers = readersOf(e.scope.graph, name);
      const known = readers.nodes.every((x) => e.transposes.includes(x.node) || e.gathers.some((g) => g.gather === x.node));
      if (!same || e.other > 0 || readers.outputs || !known) {
        out.left.push({ op: 'Gather', name: scopedName({ path: e.scope.path }, name), reason: !same ? 'table dequantized with different scales' : 'table also read other than Gather → DequantizeLinear or Transpose → DequantizeLinear → MatMul' });
        continue;
      }
      const dq = e.dqs[0]!;
      const weight = int8Weight(e.scope, name, dq.inputs[1] ?? '', dq.inputs[2] ?? '', -1);
      if (typeof weight === 'string') out.left.push({ op: 'Gather', name, reason: weight });
      else out.tables.push({ weight, gathers: e.gathers, heads: e.heads });
    }
  }
  return out;
}

/** The weight dequantized as the model computes it, `(q - zp) · scale` in float32, in its stored layout. */
export async function dequantizeInt8(w: Int8Weight): Promise<Float32Array> {
  const get = async (name: string): Promise<ArrayLike<number> | undefined> => (name ? ((await initializer(w.chain, name)!.t.data()) as ArrayLike<number>) : undefined);
  const q = (await get(w.name))!;
  const s = (await get(w.scale))!;
  const z = await get(w.zeroPoint);
  const [rows, cols] = w.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const g = w.axis < 0 ? 0 : w.axis === 0 ? r : c;
      const i = r * cols + c;
      out[i] = Math.fround((q[i]! - (z ? z[z.length === 1 ? 0 : g]! : 0)) * s[s.length === 1 ? 0 : g]!);
    }
  }
  return out;
}

/** Mean quantization step of a weight's int8 grid (its scales averaged). */
export async function int8Step(w: Int8Weight): Promise<number> {
  const s = (await initializer(w.chain, w.scale)!.t.data()) as ArrayLike<number>;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += Math.abs(s[i]!);
  return sum / s.length;
}
