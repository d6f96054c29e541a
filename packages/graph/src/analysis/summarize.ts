import { getInt, getString } from '../ir/attributes.js';
import { einsumLabelSizes, einsumMacs, parseEinsum } from '../ir/einsum.js';
import { initializerBytes, initializerSize } from '../ir/dtypes.js';
import { isDefaultDomain, opsetVersion } from '../ir/graph.js';
import { type GraphScope, graphScopes, scopedName } from '../ir/scopes.js';
import type { Dim, Graph, Model, Node, RawTensor, ValueInfo, ValueType } from '../ir/types.js';
import type { Tensor } from '@whittle/tensor';
import { constantWeights, isWeightTensor } from './constant_weights.js';
import { inferValueTypes } from './shape/infer.js';
import { attentionMacs } from './attention_work.js';
import { quantizedWeights } from './quantized_weights.js';

/** Ops that read only their input's shape: a weight they read is not theirs. */
const METADATA_ONLY = new Set(['Shape', 'Size']);

/** Parameters of one node (layer). */
export interface LayerSummary {
  node: string;
  opType: string;
  /**
   * Weights the node reads (counted as in {@link ModelSummary.parameters}) — initializers and weight Constant nodes (see
   * {@link constantWeights}); a shared weight counts in each consumer, a body's node counts the
   * enclosing graphs' weights it reads, Shape and Size count none (they read no values).
   */
  parameters: number;
  bytes: number;
  /**
   * Estimated FLOPs: 2 per multiply-add, plus 1 per output element for a fused bias (Gemm, Conv,
   * and the quantized forms that take one), for MatMul/Gemm/Conv/ConvTranspose and their integer
   * and quantized forms (MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv, MatMulNBits,
   * MatMulIntegerToFloat, DynamicQuantizeMatMul, QGemm), onnxruntime's FusedMatMul and
   * FusedGemm, DeformConv (its convolution; the bilinear sampling is not counted) and Einsum (its
   * pairwise contractions, see `einsumMacs`); 0 for every other op. Inside If branches and
   * Loop/Scan bodies a layer's work (per iteration) is estimated with the enclosing graphs'
   * shapes and the body's declared inputs.
   */
  flops: number;
  /** Multiply-adds of the same ops: equal for a float model and its quantized forms. */
  macs: number;
}

/** What {@link summarize} returns. */
export interface ModelSummary {
  nodes: number;
  /** op type (with `domain:` prefix outside the default domain) → count. */
  ops: Record<string, number>;
  /**
   * Unique weights: initializers and Constant nodes that hold a weight (floating-point tensors of
   * more than one element, quantized weights read by a quantized op; see {@link constantWeights};
   * shapes, indices and scalar constants are not weights), each counted once, If/Loop/Scan
   * bodies included. A quantized
   * weight counts the weights it encodes (a 4-bit MatMulNBits B of K·N/2 bytes counts K·N), and
   * quantization parameters (scales, zero points, absmax, g_idx; see {@link quantizedWeights})
   * count none, so a float model and its quantized forms report the same number.
   */
  parameters: number;
  /** Bytes of those tensors as stored, quantization parameters included. */
  bytes: number;
  /** By stored element type: tensors, elements as stored (a packed byte is one) and bytes. */
  byDtype: Record<string, { tensors: number; parameters: number; bytes: number }>;
  layers: LayerSummary[];
  /**
   * FLOPs of one forward pass: the main graph's layers plus, for each If node, its costlier
   * branch (only one branch runs), and each Loop/Scan body times its trip count where that is
   * known statically (a constant M; a Scan's sequence length) — else the body counts 0; nested
   * alike. See {@link LayerSummary.flops}.
   */
  flops: number;
  /** Multiply-adds of one forward pass, counted like {@link ModelSummary.flops}. */
  macs: number;
  /** Symbolic or unknown dims that were taken as 1 (or the value given in `dims`) for FLOPs. */
  assumedDims: string[];
}

/**
 * Op histogram, parameter counts and bytes (initializers and weight Constant nodes, by dtype and
 * by node, If/Loop/Scan bodies included)
 * and a FLOPs / multiply-add estimate for MatMul/Gemm/Conv/ConvTranspose and their integer and
 * quantized forms (a quantized op counts its float counterpart's work) in the main graph, the
 * costlier branch of each If and Loop/Scan bodies with a static trip count. `dims` gives values for symbolic dimensions (e.g. `{ batch: 1 }`); others
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
  // a packed quantized weight counts the weights it encodes; scales and zero points count none
  const quantized = quantizedWeights(model.graph);
  const elementsOf = (name: string, t: Tensor | RawTensor): number => {
    const q = quantized.weights.get(name);
    if (q) return q.elements;
    return quantized.metadata.has(name) || !isWeightTensor(t) ? 0 : initializerSize(t);
  };
  const count = (name: string, t: Tensor | RawTensor): void => {
    const dt = 'storage' in t ? t.dtype : t.dataType;
    const e = (byDtype[dt] ??= { tensors: 0, parameters: 0, bytes: 0 });
    const b = initializerBytes(t);
    e.tensors++;
    e.parameters += initializerSize(t);
    e.bytes += b;
    parameters += elementsOf(name, t);
    bytes += b;
  };
  // Work per graph (own layers) and each scope's inferred types, seeding its subgraphs' inference.
  const own = new Map<Graph, { macs: number; flops: number }>();
  // Loop/Scan nodes whose trip count is known statically (constant M, a sized scan axis)
  const trips = new Map<Node, number>();
  const scopeTypes = new Map<Graph, ReadonlyMap<string, ValueType>>();
  const scopeData = new Map<Graph, ReadonlyMap<string, Dim[]>>();
  const scopeWeights = new Map<Graph, ReadonlyMap<string, Tensor | RawTensor>>();
  // Every graph: the main one and If/Loop/Scan bodies (their layers are named `path: node`).
  for (const scope of graphScopes(model.graph)) {
    const g = scope.graph;
    nodes += g.nodes.length;
    for (const n of g.nodes) {
      const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
      ops[k] = (ops[k] ?? 0) + 1;
    }
    const all = new Map<string, Tensor | RawTensor>([...g.initializers, ...g.rawInitializers, ...constantWeights(g)]);
    for (const [name, t] of all) count(name, t);
    scopeWeights.set(g, all);
    // a body's node owns the enclosing graphs' weights it reads (an Optimum merged decoder's
    // branches read every shared weight from the main graph)
    const weight = (name: string): Tensor | RawTensor | undefined => {
      for (let s: GraphScope | undefined = scope; s; s = s.parent) {
        const t = scopeWeights.get(s.graph)?.get(name);
        if (t) return t;
      }
      return undefined;
    };
    const outer = scope.parent ? scopeTypes.get(scope.parent.graph) : undefined;
    const outerData = scope.parent ? scopeData.get(scope.parent.graph) : undefined;
    // given dim sizes enter the main graph's input shapes, and so does batch 1 for a leading dim
    // left open (a symbolic batch stops Reshapes from resolving, and attention's work counted 0)
    const given = scope.path === '' ? { ...leadingDims(g, opts.dims, assumed), ...opts.dims } : undefined;
    const inferred = given && Object.keys(given).length ? { ...g, inputs: g.inputs.map((v) => withDims(v, given)) } : g;
    const { types, data } = inferValueTypes(inferred, { opset: opsetVersion(model) ?? 21, ...(outer ? { outer } : {}), ...(outerData ? { outerData } : {}) });
    scopeTypes.set(g, types);
    scopeData.set(g, data);
    const sum = { macs: 0, flops: 0 };
    own.set(g, sum);
    const shape = (name: string | undefined): number[] | undefined => {
      const s = name ? types.get(name)?.shape : undefined;
      return s?.map(dim);
    };
    for (const n of g.nodes) {
      let p = 0;
      let b = 0;
      // Shape/Size read no values
      const reads = METADATA_ONLY.has(n.opType) && isDefaultDomain(n.domain) ? [] : new Set(n.inputs);
      for (const x of reads) {
        const t = x ? weight(x) : undefined;
        if (t) {
          p += elementsOf(x!, t);
          b += initializerBytes(t);
        }
      }
      const trip = tripCount(n, data, shape);
      if (trip !== undefined) trips.set(n, trip);
      const work = workOf(n, shape);
      sum.macs += work.macs;
      sum.flops += work.flops;
      layers.push({ node: scope.path ? scopedName(scope, n.name) : n.name, opType: n.opType, parameters: p, bytes: b, flops: work.flops, macs: work.macs });
    }
  }
  return {
    nodes,
    ops,
    parameters,
    bytes,
    byDtype,
    layers,
    ...passWork(model.graph, own, trips),
    assumedDims: [...assumed],
  };
}

/** `v` with its named dims replaced by the sizes in `dims`. */
/** Symbolic leading (batch) dims of the graph's inputs not given in `dims`: each taken as 1 and listed in `assumed`. */
function leadingDims(g: Graph, dims: Readonly<Record<string, number>> | undefined, assumed: Set<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of g.inputs) {
    const d = v.type?.kind === 'tensor' ? v.type.shape?.[0] : undefined;
    if (typeof d === 'string' && d !== '' && dims?.[d] === undefined && !g.initializers.has(v.name)) {
      out[d] = 1;
      assumed.add(d);
    }
  }
  return out;
}

function withDims(v: ValueInfo, dims: Readonly<Record<string, number>>): ValueInfo {
  const t = v.type;
  if (t?.kind !== 'tensor' || !t.shape) return v;
  return { ...v, type: { ...t, shape: t.shape.map((d) => (typeof d === 'string' && dims[d] !== undefined ? dims[d] : d)) } };
}

/**
 * Iterations of a Loop (its maximum trip count M, when constant) or a Scan (opset 9+: the first
 * scan input's length along its scan axis, symbolic dims as for FLOPs); undefined otherwise.
 */
function tripCount(n: Node, data: ReadonlyMap<string, Dim[]>, shape: (name: string | undefined) => number[] | undefined): number | undefined {
  if (!isDefaultDomain(n.domain)) return undefined;
  if (n.opType === 'Loop') {
    const m = n.inputs[0] ? data.get(n.inputs[0])?.[0] : undefined;
    return typeof m === 'number' && m >= 0 ? m : undefined;
  }
  if (n.opType !== 'Scan') return undefined;
  const scanInputs = getInt(n, 'num_scan_inputs', 0);
  const first = n.inputs[n.inputs.length - scanInputs];
  const s = scanInputs > 0 ? shape(first) : undefined;
  if (!s) return undefined;
  const axes = n.attributes.get('scan_input_axes');
  const axis = axes?.type === 'ints' ? (axes.value[0] ?? 0) : 0;
  return s[axis < 0 ? axis + s.length : axis];
}

/**
 * One pass's work in `g`: its own layers, the costlier branch of each If, and each Loop/Scan
 * body times its trip count where that is known statically (0 where it is not), recursively.
 */
function passWork(g: Graph, own: ReadonlyMap<Graph, { macs: number; flops: number }>, trips: ReadonlyMap<Node, number>): { macs: number; flops: number } {
  const w = { ...(own.get(g) ?? { macs: 0, flops: 0 }) };
  for (const n of g.nodes) {
    if (n.opType === 'If') {
      let best = { macs: 0, flops: 0 };
      for (const a of n.attributes.values()) {
        if (a.type !== 'graph') continue;
        const b = passWork(a.value, own, trips);
        if (b.flops > best.flops) best = b;
      }
      w.macs += best.macs;
      w.flops += best.flops;
    } else if ((n.opType === 'Loop' || n.opType === 'Scan') && trips.has(n)) {
      const body = n.attributes.get('body');
      if (body?.type !== 'graph') continue;
      const b = passWork(body.value, own, trips);
      w.macs += trips.get(n)! * b.macs;
      w.flops += trips.get(n)! * b.flops;
    }
  }
  return w;
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

/**
 * The ops whose work the estimate counts: float matmul/conv and their integer and quantized
 * forms, with the inputs that hold the data (A / X), the weight (B / W) and an optional fused
 * bias. A quantized op counts the multiply-adds of its float counterpart on the same shapes
 * (MatMulNBits: K from A's last dim; the packed B is not read), so a quantized model reports the
 * float model's MACs; the (de)quantize arithmetic around them is elementwise and not counted.
 */
const LINEAR: Record<string, { kind: 'matmul' | 'gemm' | 'conv'; data: number; weight: number; bias?: number }> = {
  MatMul: { kind: 'matmul', data: 0, weight: 1 },
  MatMulInteger: { kind: 'matmul', data: 0, weight: 1 },
  QLinearMatMul: { kind: 'matmul', data: 0, weight: 3 },
  'com.microsoft:MatMulIntegerToFloat': { kind: 'matmul', data: 0, weight: 1, bias: 6 },
  'com.microsoft:DynamicQuantizeMatMul': { kind: 'matmul', data: 0, weight: 1, bias: 4 },
  'com.microsoft:MatMulNBits': { kind: 'matmul', data: 0, weight: 1, bias: 5 },
  'com.microsoft:MatMulBnb4': { kind: 'matmul', data: 0, weight: 1 },
  Gemm: { kind: 'gemm', data: 0, weight: 1, bias: 2 },
  'com.microsoft:QGemm': { kind: 'gemm', data: 0, weight: 3, bias: 6 },
  'com.microsoft:FusedGemm': { kind: 'gemm', data: 0, weight: 1, bias: 2 },
  Conv: { kind: 'conv', data: 0, weight: 1, bias: 2 },
  DeformConv: { kind: 'conv', data: 0, weight: 1, bias: 3 },
  ConvInteger: { kind: 'conv', data: 0, weight: 1 },
  QLinearConv: { kind: 'conv', data: 0, weight: 3, bias: 8 },
};

/** Multiply-adds of one node and its FLOPs (2 per multiply-add, plus 1 per output for a fused bias). */
function workOf(n: Node, shape: (name: string | undefined) => number[] | undefined): { macs: number; flops: number } {
  const none = { macs: 0, flops: 0 };
  const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
  if (key === 'ConvTranspose') {
    const x = shape(n.inputs[0]);
    const w = shape(n.inputs[1]);
    if (!w || !x) return none;
    const macs = prod(x) * prod(w.slice(1));
    return { macs, flops: 2 * macs };
  }
  if (key === 'com.microsoft:FusedMatMul') {
    // K is the last axis of A as arranged: A's axis 0 when transposed across the batch (transBatchA)
    const a = shape(n.inputs[0]);
    const out = shape(n.outputs[0]);
    if (!a || !out) return none;
    const r = a.length;
    const k = r === 1 || !getInt(n, 'transA', 0) ? a[r - 1]! : getInt(n, 'transBatchA', 0) ? a[0]! : a[r - 2]!;
    const macs = prod(out) * k;
    return { macs, flops: 2 * macs };
  }
  const attention = attentionMacs(key, n, shape);
  if (attention !== undefined) return { macs: attention, flops: 2 * attention };
  if (key === 'Einsum') {
    const shapes = n.inputs.map((i) => shape(i));
    if (shapes.some((s) => !s)) return none;
    try {
      const labels = parseEinsum(getString(n, 'equation', ''), shapes.map((s) => s!.length));
      const macs = einsumMacs(labels, einsumLabelSizes(labels, shapes as number[][]));
      return { macs, flops: 2 * macs };
    } catch {
      return none; // a malformed equation is validation's to report
    }
  }
  const op = LINEAR[key];
  const out = shape(n.outputs[0]);
  if (!op || !out) return none;
  let macs = 0;
  if (op.kind === 'matmul') {
    const a = shape(n.inputs[op.data]);
    if (!a) return none;
    macs = prod(out) * (a[a.length - 1] ?? 1);
  } else if (op.kind === 'gemm') {
    const a = shape(n.inputs[op.data]);
    if (!a) return none;
    macs = prod(out) * (getInt(n, 'transA', 0) ? a[0]! : a[1]!);
  } else {
    const w = shape(n.inputs[op.weight]);
    if (!w) return none;
    macs = prod(out) * prod(w.slice(1));
  }
  return { macs, flops: 2 * macs + (op.bias !== undefined && n.inputs[op.bias] ? prod(out) : 0) };
}
