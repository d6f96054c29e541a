/**
 * What compression techniques can reach in a model: weights per consuming op type (in the main
 * graph and in subgraphs), weights they cannot reach (computed weight inputs, other op types),
 * shared/tied weights — so a user sees before running why something will or will not compress.
 */
import { initializerSize } from '../ir/dtypes.js';
import { isDefaultDomain, opsetVersion } from '../ir/graph.js';
import { type GraphScope, graphScopes, scopedName } from '../ir/scopes.js';
import type { Graph, Model } from '../ir/types.js';

/** Input slots that hold a layer's weights, by op type (default domain). */
export const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = {
  MatMul: [1],
  Gemm: [1],
  Conv: [1],
  ConvTranspose: [1],
  Gather: [0],
  LSTM: [1, 2],
  GRU: [1, 2],
  RNN: [1, 2],
};

/** Weights read by one op type. */
export interface OpWeights {
  /** Float initializers in a weight slot. */
  weights: number;
  /** Of those, stored as float16 (a float16 export): the float32-only techniques skip them. */
  float16: number;
  parameters: number;
  /** Of those, inside If/Loop/Scan subgraphs. */
  inSubgraphs: number;
}

/** A layer whose weight input is computed by other nodes (no technique can reach it). */
export interface ComputedWeight {
  node: string;
  opType: string;
  /** The op producing the weight input, or 'graph input'. */
  from: string;
}

/** What {@link weightCoverage} returns. */
export interface WeightCoverage {
  /** Default-domain opset of the model. */
  opset: number;
  /** Number of graphs (main + subgraphs). */
  graphs: number;
  /** Float parameters stored in initializers, all scopes. */
  floatParameters: number;
  /** Per op type (MatMul, Gemm, Conv, ConvTranspose, Gather, LSTM, …). */
  byOp: Record<string, OpWeights>;
  /** Float parameters read only by other ops (norm scales, biases, tables, …). */
  otherParameters: number;
  /** Fraction of the float parameters held by MatMul/Gemm/Conv/Gather weights. */
  linearFraction: number;
  /** Initializers read by several node inputs (tied/shared weights), with their readers. */
  shared: { name: string; elements: number; readers: string[] }[];
  /** Layers whose weight is not an initializer. */
  computed: ComputedWeight[];
  /** Constant nodes still holding tensors (run the front end to turn them into initializers). */
  constantNodes: number;
}

function isFloatName(g: Graph, name: string): boolean {
  const t = g.initializers.get(name);
  return !!t && (t.dtype === 'float32' || t.dtype === 'float16');
}

/** The graph (this scope or an enclosing one) whose float initializer `name` is, if any. */
function ownerOf(scope: GraphScope, name: string): Graph | undefined {
  for (let s: GraphScope | undefined = scope; s; s = s.parent) {
    if (isFloatName(s.graph, name)) return s.graph;
    if (s.graph.inputs.some((v) => v.name === name) || s.graph.nodes.some((n) => n.outputs.includes(name))) return undefined;
  }
  return undefined;
}

/** Count the weights every technique family can reach, per op type and scope. */
export function weightCoverage(model: Model): WeightCoverage {
  const byOp: Record<string, OpWeights> = {};
  const computed: ComputedWeight[] = [];
  const shared: WeightCoverage['shared'] = [];
  let floatParameters = 0;
  let linear = 0;
  let constantNodes = 0;
  const scopes = graphScopes(model.graph);
  const counted = new Map<Graph, Set<string>>();
  for (const scope of scopes) {
    const g = scope.graph;
    const readers = new Map<string, string[]>();
    const producers = new Map<string, string>();
    for (const n of g.nodes) for (const o of n.outputs) if (o) producers.set(o, n.opType);
    for (const n of g.nodes) {
      if (n.opType === 'Constant' && isDefaultDomain(n.domain)) constantNodes++;
      n.inputs.forEach((x) => {
        if (x && isFloatName(g, x)) readers.set(x, [...(readers.get(x) ?? []), scopedName(scope, n.name || n.opType)]);
      });
      const slots = isDefaultDomain(n.domain) ? WEIGHT_SLOTS[n.opType] : undefined;
      if (!slots) continue;
      for (const slot of slots) {
        const w = n.inputs[slot];
        if (!w) continue;
        if (ownerOf(scope, w)) continue;
        const from = producers.get(w) ?? (g.inputs.some((v) => v.name === w) ? 'graph input' : undefined);
        if (from && from !== 'Constant' && n.opType !== 'Gather' && n.opType !== 'MatMul') computed.push({ node: scopedName(scope, n.name || n.opType), opType: n.opType, from });
      }
    }
    for (const n of g.nodes) {
      const slots = isDefaultDomain(n.domain) ? WEIGHT_SLOTS[n.opType] : undefined;
      if (!slots) continue;
      for (const slot of slots) {
        const w = n.inputs[slot];
        const owner = w ? ownerOf(scope, w) : undefined;
        if (!w || !owner) continue;
        // a weight read by several layers (tied, or one per If branch) counts once, where it is stored
        const seen = counted.get(owner) ?? new Set<string>();
        counted.set(owner, seen);
        if (seen.has(w)) continue;
        seen.add(w);
        const t = owner.initializers.get(w)!;
        const size = initializerSize(t);
        const e = (byOp[n.opType] ??= { weights: 0, float16: 0, parameters: 0, inSubgraphs: 0 });
        e.weights++;
        if (t.dtype === 'float16') e.float16++;
        e.parameters += size;
        if (scope.path) e.inSubgraphs++;
        if (n.opType === 'MatMul' || n.opType === 'Gemm' || n.opType === 'Conv' || n.opType === 'Gather') linear += size;
      }
    }
    for (const t of g.initializers.values()) if (t.dtype === 'float32' || t.dtype === 'float16') floatParameters += t.size;
    for (const [name, r] of readers) if (r.length > 1) shared.push({ name: scopedName(scope, name), elements: initializerSize(g.initializers.get(name)!), readers: r });
  }
  const inLayers = Object.values(byOp).reduce((a, o) => a + o.parameters, 0);
  return {
    opset: opsetVersion(model) ?? 0,
    graphs: scopes.length,
    floatParameters,
    byOp,
    otherParameters: Math.max(0, floatParameters - inLayers),
    linearFraction: floatParameters ? linear / floatParameters : 0,
    shared,
    computed,
    constantNodes,
  };
}
