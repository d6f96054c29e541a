import { getInt } from '../ir/attributes.js';
import { initializerBytes, initializerSize } from '../ir/dtypes.js';
import { opsetVersion } from '../ir/graph.js';
import { graphScopes, scopedName } from '../ir/scopes.js';
import type { Dim, Model, Node, RawTensor } from '../ir/types.js';
import type { Tensor } from '@whittle/tensor';
import { inferValueTypes } from './shape/infer.js';

/** Parameters of one node (layer). */
export interface LayerSummary {
  node: string;
  opType: string;
  /** Elements of the initializers the node reads (a shared initializer counts in each consumer). */
  parameters: number;
  bytes: number;
  /** Estimated FLOPs (multiply-adds count 2) for MatMul/Gemm/Conv/ConvTranspose, else 0. */
  flops: number;
}

/** What {@link summarize} returns. */
export interface ModelSummary {
  nodes: number;
  /** op type (with `domain:` prefix outside the default domain) → count. */
  ops: Record<string, number>;
  /** Unique initializer elements and bytes. */
  parameters: number;
  bytes: number;
  byDtype: Record<string, { tensors: number; parameters: number; bytes: number }>;
  layers: LayerSummary[];
  flops: number;
  /** Symbolic or unknown dims that were taken as 1 (or the value given in `dims`) for FLOPs. */
  assumedDims: string[];
}

/**
 * Op histogram, parameter counts and bytes (by dtype and by node, If/Loop/Scan bodies included)
 * and a FLOPs estimate for MatMul/Gemm/Conv of the main graph. `dims` gives values for symbolic dimensions (e.g. `{ batch: 1 }`); others
 * count as 1 and are listed in `assumedDims`.
 */
export function summarize(model: Model, opts: { dims?: Record<string, number> } = {}): ModelSummary {
  const ops: Record<string, number> = {};
  const byDtype: ModelSummary['byDtype'] = {};
  let parameters = 0;
  let bytes = 0;
  let nodes = 0;
  const layers: LayerSummary[] = [];
  const assumed = new Set<string>();
  const dim = (d: Dim | undefined): number => {
    if (typeof d === 'number') return d;
    const v = typeof d === 'string' ? opts.dims?.[d] : undefined;
    if (v !== undefined) return v;
    assumed.add(d ?? '?');
    return 1;
  };
  const count = (t: Tensor | RawTensor): void => {
    const dt = 'storage' in t ? t.dtype : t.dataType;
    const e = (byDtype[dt] ??= { tensors: 0, parameters: 0, bytes: 0 });
    const n = initializerSize(t);
    const b = initializerBytes(t);
    e.tensors++;
    e.parameters += n;
    e.bytes += b;
    parameters += n;
    bytes += b;
  };
  // Every graph: the main one and If/Loop/Scan bodies (their layers are named `path: node`).
  for (const scope of graphScopes(model.graph)) {
    const g = scope.graph;
    nodes += g.nodes.length;
    for (const n of g.nodes) {
      const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
      ops[k] = (ops[k] ?? 0) + 1;
    }
    const all = new Map<string, Tensor | RawTensor>([...g.initializers, ...g.rawInitializers]);
    for (const t of all.values()) count(t);
    const { types } = inferValueTypes(g, { opset: opsetVersion(model) ?? 21 });
    const shape = (name: string | undefined): number[] | undefined => {
      const s = name ? types.get(name)?.shape : undefined;
      return s?.map(dim);
    };
    for (const n of g.nodes) {
      let p = 0;
      let b = 0;
      for (const x of new Set(n.inputs)) {
        const t = x ? all.get(x) : undefined;
        if (t) {
          p += initializerSize(t);
          b += initializerBytes(t);
        }
      }
      layers.push({ node: scope.path ? scopedName(scope, n.name) : n.name, opType: n.opType, parameters: p, bytes: b, flops: scope.path ? 0 : flopsOf(n, shape) });
    }
  }
  return {
    nodes,
    ops,
    parameters,
    bytes,
    byDtype,
    layers,
    flops: layers.reduce((s, l) => s + l.flops, 0),
    assumedDims: [...assumed],
  };
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

function flopsOf(n: Node, shape: (name: string | undefined) => number[] | undefined): number {
  if (n.domain && n.domain !== 'ai.onnx') return 0;
  const out = shape(n.outputs[0]);
  switch (n.opType) {
    case 'MatMul': {
      const a = shape(n.inputs[0]);
      if (!a || !out) return 0;
      return 2 * prod(out) * (a[a.length - 1] ?? 1);
    }
    case 'Gemm': {
      const a = shape(n.inputs[0]);
      if (!a || !out) return 0;
      const k = getInt(n, 'transA', 0) ? a[0]! : a[1]!;
      return 2 * prod(out) * k + (n.inputs[2] ? prod(out) : 0);
    }
    case 'Conv': {
      const w = shape(n.inputs[1]);
      if (!w || !out) return 0;
      return 2 * prod(out) * prod(w.slice(1)) + (n.inputs[2] ? prod(out) : 0);
    }
    case 'ConvTranspose': {
      const x = shape(n.inputs[0]);
      const w = shape(n.inputs[1]);
      if (!w || !x) return 0;
      return 2 * prod(x) * prod(w.slice(1));
    }
    default:
      return 0;
  }
}
