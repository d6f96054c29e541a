/**
 * What `convert-float16` keeps in float32 without data: values float16 cannot carry that the graph
 * itself shows. Constants beyond ±65504 (an attention-mask fill of -3.4e38 in a Constant,
 * ConstantOfShape or initializer) become ±inf in float16, and `-inf * 0` in the mask arithmetic
 * after them is NaN, so their readers stay float32 and, for fill values in graphs no measurement
 * covers, so do the readers of those until an op bounds the values again (Softmax). Integer accumulators (the int32
 * output of MatMulInteger/ConvInteger) routinely exceed 65504 before their rescale, so the Cast to
 * float and the rescaling Mul stay float32 too.
 */
import { type Graph, type Node, definedNames, graphScopes, isDefaultDomain, scopedName, subgraphsOf } from '@whittle/graph';
import type { ElemTypes } from './elem_types.js';

/** Largest finite float16. */
const HALF_MAX = 65504;

/**
 * Ops whose float output is bounded whatever their input: propagation of an out-of-range value
 * stops after them (Log: the log of any float32 is within ±89, so a magnitude scaled by 2^20
 * before its log, as Silero VAD does, is back in range).
 */
const BOUNDING_OPS = new Set(['Softmax', 'Sigmoid', 'Tanh', 'Erf', 'Sin', 'Cos', 'HardSigmoid', 'Softsign', 'Log']);

/** Whether any finite value is beyond the float16 range. */
export function exceedsHalf(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (Math.abs(v[i]!) > HALF_MAX && Number.isFinite(v[i]!)) return true;
  return false;
}

/** A read of a value: the node and input slot, or slot -1 for a (sub)graph output. */
export interface Read {
  node: Node;
  input: number;
}

/** Every (node, input slot) reading `name` in `g` and nested subgraphs (where not shadowed), and whether a graph output does. */
export function reads(g: Graph, name: string): Read[] {
  const out: Read[] = [];
  const walk = (x: Graph, top: boolean): void => {
    if (!top && definedNames(x).has(name)) return;
    for (const n of x.nodes) {
      n.inputs.forEach((i, k) => {
        if (i === name) out.push({ node: n, input: k });
      });
      for (const sg of subgraphsOf(n)) walk(sg, false);
    }
    if (!top && x.outputs.some((o) => o.name === name)) out.push({ node: { opType: '' } as Node, input: -1 });
  };
  walk(g, true);
  if (g.outputs.some((o) => o.name === name)) out.push({ node: { opType: '' } as Node, input: -1 });
  return out;
}

/** Whether every element equals the first: a fill value (a mask's -3.4e38), not a weight. */
function uniformValue(v: Float32Array): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

/**
 * Float32 constants beyond the float16 range: scoped names, the nodes that read them directly, and
 * among those the readers of fill values (a ConstantOfShape value, a constant holding one value
 * throughout), whose out-of-range value flows on as a mask does; a weight with a large entry does not.
 */
export async function outOfRangeConstants(root: Graph): Promise<{ names: string[]; readers: Set<Node>; fillReaders: Set<Node> }> {
  const names: string[] = [];
  const readers = new Set<Node>();
  const fillReaders = new Set<Node>();
  const add = (g: Graph, scopeName: string, value: string, fill: boolean): void => {
    names.push(scopeName);
    for (const r of reads(g, value)) {
      if (r.input < 0) continue;
      readers.add(r.node);
      if (fill) fillReaders.add(r.node);
    }
  };
  for (const s of graphScopes(root)) {
    for (const [k, t] of s.graph.initializers) {
      if (t.dtype !== 'float32') continue;
      const v = (await t.data()) as Float32Array;
      if (exceedsHalf(v)) add(s.graph, scopedName(s, k), k, uniformValue(v));
    }
    for (const n of s.graph.nodes) {
      if ((n.opType !== 'Constant' && n.opType !== 'ConstantOfShape') || !isDefaultDomain(n.domain)) continue;
      const v = n.attributes.get('value');
      if (v?.type !== 'tensor' || !('dtype' in v.value) || v.value.dtype !== 'float32') continue;
      const d = (await v.value.data()) as Float32Array;
      if (exceedsHalf(d)) add(s.graph, scopedName(s, n.outputs[0]!), n.outputs[0]!, n.opType === 'ConstantOfShape' || uniformValue(d));
    }
  }
  return { names, readers, fillReaders };
}

/**
 * The readers, transitively, of the float outputs of `start` nodes, until a bounding op (Softmax,
 * Sigmoid, ...) whose output is back in range; only nodes of graphs for which `follow(graph)` holds
 * are followed. Returns the nodes added (not those of `start`).
 */
export function followOutOfRange(root: Graph, start: Iterable<Node>, types: ElemTypes, follow: (g: Graph) => boolean): Node[] {
  const graphOf = new Map<Node, Graph>();
  for (const s of graphScopes(root)) for (const n of s.graph.nodes) graphOf.set(n, s.graph);
  const seen = new Set<Node>(start);
  const added: Node[] = [];
  const queue = [...seen];
  while (queue.length) {
    const n = queue.pop()!;
    const g = graphOf.get(n);
    if (!g || !follow(g) || (isDefaultDomain(n.domain) && BOUNDING_OPS.has(n.opType))) continue;
    for (const y of n.outputs) {
      if (!y || types.get(y) !== 'float32') continue;
      for (const r of reads(g, y)) {
        if (r.input < 0 || seen.has(r.node) || !graphOf.has(r.node)) continue;
        seen.add(r.node);
        added.push(r.node);
        queue.push(r.node);
      }
    }
  }
  return added;
}

/**
 * The float side of every integer accumulator: the Cast of a MatMulInteger/ConvInteger output to
 * float, the Mul that rescales it, and the Mul that forms that scale (a product of two scales,
 * often below float16's normal range).
 */
export function integerAccumulatorNodes(root: Graph): Node[] {
  const out = new Set<Node>();
  for (const s of graphScopes(root)) {
    const g = s.graph;
    const producer = new Map<string, Node>();
    for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
    for (const n of g.nodes) {
      if (!isDefaultDomain(n.domain) || (n.opType !== 'MatMulInteger' && n.opType !== 'ConvInteger')) continue;
      for (const c of reads(g, n.outputs[0]!)) {
        const to = c.node.attributes?.get('to');
        if (c.node.opType !== 'Cast' || !isDefaultDomain(c.node.domain) || to?.type !== 'int' || to.value !== 1) continue;
        out.add(c.node);
        for (const m of reads(g, c.node.outputs[0]!)) {
          if (m.node.opType !== 'Mul' || !isDefaultDomain(m.node.domain)) continue;
          out.add(m.node);
          const scale = producer.get(m.node.inputs[1 - m.input] ?? '');
          if (scale?.opType === 'Mul' && isDefaultDomain(scale.domain)) out.add(scale);
        }
      }
    }
  }
  return [...out];
}

const INTEGER_WEIGHTS = new Set(['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4']);
const DEQUANTIZE_STEPS = new Set(['Mul', 'Add', 'Sub', 'Div']);

/**
 * Weights stored as integers and dequantized by the graph (a Cast of an integer initializer to
 * float32, then Mul/Add/Sub/Div by float initializers, as Transformers.js ships the Conv weights
 * of a dynamic-int8 model): those nodes, kept float32 so the weight is computed as stored and
 * rounded to float16 once, where it is read. In float16 the chain rounds the scale, the offset
 * and every intermediate (measured: the Moonshine encoder's output cosine 0.85 instead of 0.997).
 */
export function integerDequantizeNodes(root: Graph): Node[] {
  const out: Node[] = [];
  for (const s of graphScopes(root)) {
    const g = s.graph;
    const chain: Graph[] = [];
    for (let p: typeof s | undefined = s; p; p = p.parent) chain.push(p.graph);
    const stored = (name: string) => chain.map((x) => x.initializers.get(name)).find((t) => t);
    for (const n of g.nodes) {
      const to = n.attributes.get('to');
      const t = stored(n.inputs[0] ?? '');
      if (n.opType !== 'Cast' || !isDefaultDomain(n.domain) || to?.type !== 'int' || to.value !== 1 || !t || !INTEGER_WEIGHTS.has(t.dtype) || t.size < 16) continue;
      out.push(n);
      // the elementwise steps by float constants that follow, while each value has one reader
      for (let cur = n; ; ) {
        const r = reads(g, cur.outputs[0]!);
        const next = r.length === 1 ? r[0]!.node : undefined;
        if (!next || !isDefaultDomain(next.domain) || !DEQUANTIZE_STEPS.has(next.opType) || stored(next.inputs[1 - r[0]!.input] ?? '')?.dtype !== 'float32') break;
        out.push(next);
        cur = next;
      }
    }
  }
  return out;
}
