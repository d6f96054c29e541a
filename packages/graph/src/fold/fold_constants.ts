import { type Tensor, toBackend } from '@whittle/tensor';
import { subgraphsOf } from '../ir/attributes.js';
import { eliminateDeadCode } from '../ir/dce.js';
import { cloneModel, isDefaultDomain, opsetVersion } from '../ir/graph.js';
import type { Graph, Model, Node } from '../ir/types.js';
import { graphScopes, scopedName } from '../ir/scopes.js';
import { inferValueTypes } from '../analysis/shape/infer.js';
import { type ConstantEvaluator, evaluateConstantNode } from './evaluator.js';
import { fromValues } from './layout.js';
import { takeConstantBranch } from './constant_if.js';
import { onnxTypeCode } from '../ir/dtypes.js';

/** Options of {@link foldConstants}. */
export interface FoldOptions {
  /** Do not fold results larger than this many elements (default 1,048,576). */
  maxOutputElements?: number;
  /**
   * Op types never folded. Default: QuantizeLinear, DequantizeLinear (folding them would undo
   * quantization of weights) and random ops.
   */
  excludeOps?: string[];
  /** Evaluator for ops the built-in folder does not know (default: the one set globally). */
  evaluator?: ConstantEvaluator;
  /** Fold `Shape` of values whose shape is fully static (default true). */
  foldStaticShapes?: boolean;
  /**
   * Do not fold a node whose results have more than this many times the elements of its constant
   * inputs (and over 4,096 elements): Expand/Tile/ConstantOfShape would grow the file (default 4).
   */
  maxGrowth?: number;
  /** Run dead-code elimination afterwards (default true). */
  dce?: boolean;
}

/** What {@link foldConstants} did. */
export interface FoldResult {
  model: Model;
  /** Folded nodes (`name (OpType)`). */
  folded: string[];
  /** Nodes with all-constant inputs that were not folded, and why. */
  skipped: { node: string; opType: string; reason: string }[];
}

export const DEFAULT_FOLD_EXCLUDES = [
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'RandomNormal', 'RandomUniform',
  'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout',
];

/**
 * Replace nodes whose inputs are all initializers (not graph inputs) by initializers holding
 * their results, computed by the built-in cpu kernels or the plugged evaluator, and every `If`
 * whose condition is constant by its taken branch, in the main graph and in every subgraph (a subgraph folds over its own initializers). Results that are graph
 * outputs are not folded (the graph keeps a node producing them). Returns a new model.
 */
export async function foldConstants(model: Model, opts: FoldOptions = {}): Promise<FoldResult> {
  const m = cloneModel(model);
  const opset = opsetVersion(m) ?? 21;
  const folded: string[] = [];
  const skipped: FoldResult['skipped'] = [];
  for (const scope of graphScopes(m.graph)) {
    const r = await foldGraph(scope.graph, opset, opts);
    folded.push(...r.folded.map((f) => scopedName(scope, f)));
    skipped.push(...r.skipped.map((k) => ({ ...k, node: scopedName(scope, k.node) })));
  }
  if (opts.dce !== false) eliminateDeadCode(m.graph);
  return { model: m, folded, skipped };
}

function elementsOf(t: Tensor | undefined): number {
  return t ? t.size : 0;
}

/** Fold one graph in place (its own initializers only: outer-scope values are not constants here). */
async function foldGraph(g: Graph, opset: number, opts: FoldOptions): Promise<Omit<FoldResult, 'model'>> {
  const max = opts.maxOutputElements ?? 1 << 20;
  const growth = opts.maxGrowth ?? 4;
  const exclude = new Set(opts.excludeOps ?? DEFAULT_FOLD_EXCLUDES);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const outputs = new Set(g.outputs.map((v) => v.name));
  const constant = (name: string): Tensor | undefined => (inputs.has(name) ? undefined : g.initializers.get(name));
  const wantsTypes = g.nodes.some((n) => (n.opType === 'Shape' && opts.foldStaticShapes !== false) || n.opType === 'CastLike');
  const types = wantsTypes ? inferValueTypes(g, { opset }).types : undefined;
  const folded: string[] = [];
  const skipped: FoldResult['skipped'] = [];
  const keep: Node[] = [];
  // Readers per initializer: folding Transpose(W) while W stays read elsewhere (an embedding table
  // tied with the output projection) would store the weight twice.
  const readers = new Map<string, number>();
  // (Shape and Size read only the dims: they fold away without storing anything)
  const countReaders = (nodes: readonly Node[]): void => {
    for (const n of nodes) if (n.opType !== 'Shape' && n.opType !== 'Size') for (const i of n.inputs) if (i && g.initializers.has(i)) readers.set(i, (readers.get(i) ?? 0) + 1);
  };
  countReaders(g.nodes);
  const queue = [...g.nodes];
  for (let k = 0; k < queue.length; k++) {
    const node = queue[k]!;
    const label = node.name || node.outputs[0] || '';
    const cond = node.opType === 'If' && isDefaultDomain(node.domain) && node.inputs[0] ? constant(node.inputs[0]) : undefined;
    const taken = cond ? takeConstantBranch(g, node, cond) : undefined;
    if (taken) {
      // the branch's nodes fold next, where the If was
      queue.splice(k + 1, 0, ...taken);
      countReaders(taken);
      folded.push(`${label} (If)`);
      continue;
    }
    let results: (Tensor | undefined)[] | undefined;
    const staticShape = node.opType === 'Shape' && isDefaultDomain(node.domain) && opts.foldStaticShapes !== false ? staticShapeOf(types, node.inputs[0]) : undefined;
    // CastLike of a constant to a value whose element type is known: a Cast of the constant
    // (torch_lib writes one around every scalar; it hides channels from structured pruning)
    const castTo = node.opType === 'CastLike' && isDefaultDomain(node.domain) && node.inputs[0] && constant(node.inputs[0]) ? types?.get(node.inputs[1] ?? '')?.elemType : undefined;
    const foldable =
      isDefaultDomain(node.domain) &&
      node.inputs.some((i) => i) &&
      subgraphsOf(node).length === 0 &&
      !exclude.has(node.opType) &&
      (staticShape !== undefined || castTo !== undefined || node.inputs.every((i) => !i || constant(i)));
    if (!foldable) {
      keep.push(node);
      continue;
    }
    if (node.outputs.some((o) => outputs.has(o))) {
      skipped.push({ node: label, opType: node.opType, reason: 'produces a graph output' });
      keep.push(node);
      continue;
    }
    if (staticShape && node.opType === 'Shape' && !constant(node.inputs[0]!)) {
      const r = inferShapeSlice(node, staticShape);
      results = [fromValues(r, [r.length], 'int64')];
    } else if (castTo !== undefined && !constant(node.inputs[1]!)) {
      const cast: Node = { ...node, opType: 'Cast', inputs: [node.inputs[0]!], attributes: new Map([['to', { type: 'int', value: onnxTypeCode(castTo) }]]) };
      try {
        results = await evaluateConstantNode(cast, [constant(node.inputs[0]!)], opset, opts.evaluator);
      } catch (e) {
        skipped.push({ node: label, opType: node.opType, reason: `evaluation failed: ${(e as Error).message}` });
      }
    } else {
      const vals = node.inputs.map((i) => (i ? constant(i) : undefined));
      try {
        results = await evaluateConstantNode(node, vals, opset, opts.evaluator);
      } catch (e) {
        skipped.push({ node: label, opType: node.opType, reason: `evaluation failed: ${(e as Error).message}` });
      }
    }
    const ok = results && node.outputs.every((o, i) => !o || results![i]);
    if (!results || !ok) {
      if (results === undefined && !skipped.some((s) => s.node === label)) skipped.push({ node: label, opType: node.opType, reason: 'no evaluator for this op' });
      keep.push(node);
      continue;
    }
    // Weights behind Transpose/Reshape/Cast fold whatever their size; a result larger than its
    // inputs is bounded: Expand/Tile/ConstantOfShape of small constants would store a large tensor
    // that the graph computes cheaply (the file must not grow).
    const inElems = node.inputs.reduce((a, i) => a + (i ? elementsOf(constant(i)) : 0), 0);
    const outElems = results.reduce((a, t) => a + elementsOf(t), 0);
    if (outElems > inElems && results.some((t) => t && t.size > max)) {
      skipped.push({ node: label, opType: node.opType, reason: `result larger than maxOutputElements (${max})` });
      keep.push(node);
      continue;
    }
    const tied = node.inputs.find((i) => i && (readers.get(i) ?? 0) > 1 && elementsOf(constant(i)) > 4096);
    if (tied && outElems > 4096) {
      skipped.push({ node: label, opType: node.opType, reason: `input '${tied}' is also read by other nodes (a tied weight): folding would store it twice` });
      keep.push(node);
      continue;
    }
    if (outElems > 4096 && outElems > growth * Math.max(inElems, 1)) {
      skipped.push({ node: label, opType: node.opType, reason: `result has ${outElems} elements from ${inElems} (more than ${growth}x its inputs)` });
      keep.push(node);
      continue;
    }
    for (let i = 0; i < node.outputs.length; i++) {
      const o = node.outputs[i]!;
      if (!o) continue;
      let t = results[i]!;
      if (t.backend !== 'cpu') t = await toBackend(t, 'cpu');
      g.initializers.set(o, t);
      g.valueInfo.delete(o);
    }
    folded.push(`${label} (${node.opType})`);
  }
  g.nodes = keep;
  return { folded, skipped };
}

function staticShapeOf(types: ReturnType<typeof inferValueTypes>['types'] | undefined, name: string | undefined): number[] | undefined {
  const s = name ? types?.get(name)?.shape : undefined;
  return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
}

function inferShapeSlice(node: Node, dims: number[]): number[] {
  const r = dims.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const s = node.attributes.get('start');
  const e = node.attributes.get('end');
  return dims.slice(clamp(s?.type === 'int' ? s.value : 0), clamp(e?.type === 'int' ? e.value : r));
}
