import type { Tensor } from '@whittle/tensor';
import { GraphValidationError } from '../../errors.js';
import { tensorValues } from '../../ir/dtypes.js';
import { cloneModel, isDefaultDomain, opsetVersion } from '../../ir/graph.js';
import { topologicalOrder } from '../../ir/topo.js';
import type { Dim, Graph, Model, Node, ValueType } from '../../ir/types.js';
import { mergeTypes, tensorType } from './dims.js';
import { ifOutputs } from './if_branches.js';
import { type OutInfo, type RuleContext, getShapeRule } from './rule.js';
import './elementwise.js';
import './linear.js';
import './reshape.js';
import './indexing.js';
import './quantized.js';
import './qlinear.js';
import './ml.js';
import './contrib.js';
import './attention.js';
import './signal.js';
import './sampling.js';

/** Largest constant whose values shape inference reads (shape/axes/index tensors are small). */
const MAX_DATA = 64;

/** A problem found by shape inference (an inconsistency between a node's input shapes). */
export interface ShapeIssue {
  node: string;
  opType: string;
  message: string;
}

/** Result of {@link inferValueTypes}. */
export interface InferredTypes {
  /** Type of every value with known type: graph inputs, initializers, node outputs. */
  types: Map<string, ValueType>;
  /** Known element values of small integer tensors (shape computations), symbolic dims allowed. */
  data: Map<string, Dim[]>;
  /** Inconsistencies found (the node is skipped). */
  issues: ShapeIssue[];
}

/** Options of shape inference. */
export interface InferOptions {
  /** Throw a GraphValidationError on the first inconsistency instead of recording it. */
  strict?: boolean;
  /** Opset of the default domain (taken from the model when inferring a model). */
  opset?: number;
  /**
   * Types of the enclosing graphs' values, for a subgraph (If branch, Loop/Scan body) that reads
   * them by name; the subgraph's own declarations take precedence.
   */
  outer?: ReadonlyMap<string, ValueType>;
  /** Known small data of the enclosing graphs' values (shape computations a subgraph reads). */
  outerData?: ReadonlyMap<string, Dim[]>;
}

const isInt = (t: string | undefined): boolean =>
  t === 'int64' || t === 'int32' || t === 'int8' || t === 'uint8' || t === 'int16' || t === 'uint16' || t === 'uint32' || t === 'uint64';

function constantData(t: Tensor): Dim[] | undefined {
  if (t.size > MAX_DATA || t.rank > 1 || t.backend !== 'cpu') return undefined;
  return Array.from(tensorValues(t));
}

/**
 * Infer the type (element type and shape, symbolic dims kept) of every value of `g`'s main
 * graph, running the registered shape rules in topological order. Declared types (graph
 * outputs, value_info) are merged: declared information is kept and gaps are filled.
 */
export function inferValueTypes(g: Graph, opts: InferOptions = {}): InferredTypes {
  const opset = opts.opset ?? 21;
  const types = new Map<string, ValueType>();
  const data = new Map<string, Dim[]>();
  const issues: ShapeIssue[] = [];
  for (const [k, t] of opts.outer ?? []) types.set(k, t);
  for (const [k, d] of opts.outerData ?? []) data.set(k, d);
  for (const v of g.inputs) if (v.type) types.set(v.name, v.type);
  for (const [k, t] of g.initializers) {
    types.set(k, tensorType(t.dtype, t.shape));
    const d = constantData(t);
    if (d) data.set(k, d);
  }
  for (const [k, t] of g.rawInitializers) types.set(k, tensorType(t.dataType, t.dims));
  for (const [k, v] of g.valueInfo) if (v.type && !types.has(k)) types.set(k, v.type);
  const declared = new Map<string, ValueType>();
  for (const v of [...g.valueInfo.values(), ...g.outputs]) if (v.type) declared.set(v.name, v.type);

  // an If's outputs come from inferring its branches in this scope
  const ifRule = (node: Node): (OutInfo | undefined)[] => ifOutputs(node, data.get(node.inputs[0] ?? ''), (b) => inferValueTypes(b, { opset, outer: types, outerData: data }));
  for (const node of topologicalOrder(g)) {
    const isIf = node.opType === 'If' && isDefaultDomain(node.domain);
    const rule = isIf ? () => ifRule(node) : getShapeRule(node.opType, isDefaultDomain(node.domain) ? '' : node.domain);
    if (!rule) continue;
    const ctx = makeContext(node, opset, types, data);
    let outs;
    try {
      outs = rule(ctx);
    } catch (e) {
      // A rule meeting a graph it was not written for (a malformed file) is an issue of that
      // node, never a crash of the whole inference.
      const message = e instanceof ShapeFail ? e.message : `cannot infer (${(e as Error).message})`;
      const issue = { node: node.name, opType: node.opType, message };
      if (opts.strict) {
        throw new GraphValidationError('shape', `shape inference: node '${node.name}' (${node.opType}): ${message}`, { node: node.name, opType: node.opType, graph: g.name });
      }
      issues.push(issue);
      continue;
    }
    node.outputs.forEach((o, i) => {
      const info = outs[i];
      if (!o || !info) return;
      const inferred = tensorType(info.elem, info.shape);
      const t = mergeTypes(declared.get(o), inferred);
      if (t) types.set(o, t);
      if (info.data && info.data.length <= MAX_DATA) data.set(o, info.data);
    });
  }
  return { types, data, issues };
}

class ShapeFail extends Error {}

function makeContext(node: Node, opset: number, types: Map<string, ValueType>, data: Map<string, Dim[]>): RuleContext {
  const name = (i: number): string => node.inputs[i] ?? '';
  const type = (i: number): ValueType | undefined => (name(i) ? types.get(name(i)) : undefined);
  return {
    node,
    opset,
    has: (i) => name(i) !== '',
    type,
    shape: (i) => {
      const t = type(i);
      return t?.kind === 'tensor' ? t.shape : undefined;
    },
    elem: (i) => {
      const t = type(i);
      return t?.kind === 'tensor' && t.elemType !== 'undefined' ? t.elemType : undefined;
    },
    data: (i) => (name(i) ? data.get(name(i)) : undefined),
    ints: (i) => {
      const d = name(i) ? data.get(name(i)) : undefined;
      const t = type(i);
      if (!d || (t?.elemType !== undefined && !isInt(t.elemType))) return undefined;
      return d.every((v) => typeof v === 'number') ? (d as number[]) : undefined;
    },
    fail: (message) => {
      throw new ShapeFail(message);
    },
  };
}

/**
 * Run shape inference on a copy of `model` and return it with value_info entries for every
 * intermediate value whose type was inferred (graph output types are completed too). Constant
 * nodes' values count as known data.
 */
export function inferShapes(model: Model, opts: Omit<InferOptions, 'opset'> = {}): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const { types } = inferValueTypes(g, { ...opts, opset: opsetVersion(model) ?? 21 });
  const fixed = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.rawInitializers.keys()]);
  for (const o of g.outputs) {
    const t = types.get(o.name);
    if (t) o.type = t;
  }
  const outs = new Set(g.outputs.map((o) => o.name));
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o || fixed.has(o) || outs.has(o)) continue;
      const t = types.get(o);
      if (t) g.valueInfo.set(o, { ...(g.valueInfo.get(o) ?? { name: o }), type: t });
    }
  }
  return m;
}

