/**
 * Model size: file and gzip bytes (@whittle/tensor's gzipSize: fflate level 6, browser-safe), parameters, weight sparsity and a FLOPs
 * estimate (from @whittle/graph's `summarize`).
 */
import { ArgumentError, type Tensor, gzipSize } from '@whittle/tensor';
import { DEFAULT_FOLD_EXCLUDES, type Graph, type Model, type Node, cloneModel, eliminateDeadCode, isDefaultDomain, producingNodes, quantizedWeights, summarize, tensorValues } from '@whittle/graph';
import { readModel } from '@whittle/onnx';

/** gzip sizes: @whittle/tensor's shared helper (fflate at its documented `GZIP_LEVEL`, 6). */
export { gzipSize, GZIP_LEVEL } from '@whittle/tensor';

/** What {@link weightSparsity} returns. */
export interface SparsityStats {
  /** Weights looked at (initializers of rank ≥ 2 with a computable dtype; quantized weights by the weights they encode). */
  weights: number;
  /** Of those, weights that are zero (quantized: code equal to its zero point, or a zero scale). */
  zeros: number;
  /** zeros / weights (0 when there are no weights). */
  sparsity: number;
}

/**
 * Fraction of zero weights. Weights are initializers of rank ≥ 2 (matrices and kernels; biases
 * and shape constants are left out) and every quantized weight (@whittle/graph's
 * `quantizedWeights`: DequantizeLinear inputs, integer and packed low-bit ops' weights), counted
 * by the weights they encode; a quantized weight is zero when its code equals its zero point (or
 * its scale is zero), so a pruned model keeps its sparsity once quantized. Quantization
 * parameters (scales, zero points) are not weights.
 */
export function weightSparsity(model: Model): SparsityStats {
  let weights = 0;
  let zeros = 0;
  const quantized = quantizedWeights(model.graph);
  for (const [name, t] of model.graph.initializers) {
    if (quantized.metadata.has(name)) continue;
    const q = quantized.weights.get(name);
    if (q) {
      const z = q.rank >= 2 ? q.zeros() : undefined;
      if (z === undefined) continue;
      zeros += z;
      weights += q.elements;
      continue;
    }
    if (t.shape.length < 2 || t.dtype === 'bool') continue;
    const v = tensorValues(t);
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    weights += v.length;
  }
  return { weights, zeros, sparsity: weights ? zeros / weights : 0 };
}

/** What {@link measureSize} returns. */
export interface SizeMetrics {
  /** Bytes of the .onnx file (plus external data files when measured from disk). */
  fileBytes: number;
  /** Sum of the gzip sizes of those files (gzipSize, level 6). */
  gzipBytes: number;
  /** Unique weight elements: initializers and weight Constant nodes (@whittle/graph's `summarize`). */
  parameters: number;
  /** Bytes of those weights. */
  weightBytes: number;
  /** Weight sparsity (see {@link weightSparsity}). */
  sparsity: number;
  zeroWeights: number;
  /**
   * FLOPs estimate for one forward pass at the given dims: MatMul/Gemm/Conv/ConvTranspose and their
   * integer and quantized forms (a quantized op counts its float counterpart's work); multiply-add = 2.
   * An If counts its costlier branch.
   */
  flops: number;
  /** Multiply-adds of the same estimate: a quantized model reports its float model's. */
  macs: number;
  /** Symbolic dims that were taken as 1 for the FLOPs estimate. */
  assumedDims: string[];
  /** Symbolic dims given a value for the FLOPs estimate (`MeasureSizeOptions.dims`), when any. */
  dims?: Record<string, number>;
  /** Weight tensor count/elements/bytes by dtype. */
  byDtype: Record<string, { tensors: number; parameters: number; bytes: number }>;
}

/** Options of {@link measureSize}. */
export interface MeasureSizeOptions {
  /** Values of symbolic dims for the FLOPs estimate (default: each counts as 1, e.g. batch 1). */
  dims?: Record<string, number>;
  /** The decoded model when the caller has it (saves decoding `bytes` again). */
  model?: Model;
  /** Extra files that belong to the model (external data): added to file and gzip bytes. */
  extraFiles?: readonly Uint8Array[];
  /**
   * The model with the weights its graph computes from constants stored as initializers (see
   * {@link computedWeightNames}; `materializeComputedWeights` of the node entry makes it):
   * parameters and sparsity are counted on it.
   */
  weightsModel?: Model;
}

/** Weight inputs of the layers: op → input index. */
const WEIGHT_INPUT: Record<string, number> = { MatMul: 1, Gemm: 1, Conv: 1, ConvTranspose: 1 };

/**
 * The layer weights the main graph computes from stored constants only (Deep Compression's sparse
 * streams decoded by CumSum, Gather and ScatterElements; packed codes decoded by integer
 * arithmetic), by value name. DequantizeLinear weights are not among them: their codes are counted
 * as they are (see `quantizedWeights`).
 */
export function computedWeightNames(g: Graph): string[] {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const y of n.outputs) if (y) producer.set(y, n);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const memo = new Map<string, boolean>();
  const constant = (x: string, depth: number): boolean => {
    if (g.initializers.has(x)) return true;
    if (inputs.has(x) || depth > 64) return false;
    const known = memo.get(x);
    if (known !== undefined) return known;
    const p = producer.get(x);
    const v = !!p && isDefaultDomain(p.domain) && !DEFAULT_FOLD_EXCLUDES.includes(p.opType) && p.inputs.every((i) => !i || constant(i, depth + 1));
    memo.set(x, v);
    return v;
  };
  const out = new Set<string>();
  for (const n of g.nodes) {
    const w = isDefaultDomain(n.domain) ? WEIGHT_INPUT[n.opType] : undefined;
    const x = w !== undefined ? n.inputs[w] : undefined;
    if (x && !g.initializers.has(x) && producer.has(x) && constant(x, 0)) out.add(x);
  }
  return [...out];
}

/**
 * The model that computes just the weights `names` (see {@link computedWeightNames}): their
 * decoding nodes in graph order, the initializers those read, no inputs, the weights as outputs.
 */
export function weightDecoder(model: Model, names: readonly string[]): Model {
  const g = model.graph;
  const nodes = producingNodes(g, names);
  // only what the decoding reads (onnxruntime warns of every unused initializer)
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const keep = <T>(m: ReadonlyMap<string, T>): Map<string, T> => new Map([...m].filter(([k]) => read.has(k)));
  return { ...model, graph: { ...g, nodes, inputs: [], outputs: names.map((name) => ({ name, type: null })), valueInfo: new Map(), initializers: keep(g.initializers), rawInitializers: keep(g.rawInitializers) } };
}

/**
 * `model` with the computed weights replaced by initializers holding `values` (float32, as a
 * runtime computed them with {@link weightDecoder}) and their decoding nodes and streams removed;
 * undefined when a value is missing or not float32.
 */
export function withDecodedWeights(model: Model, values: ReadonlyMap<string, Tensor>): Model | undefined {
  if ([...values.values()].some((t) => t.dtype !== 'float32')) return undefined;
  const out = cloneModel(model);
  for (const [name, t] of values) out.graph.initializers.set(name, t);
  out.graph.nodes = out.graph.nodes.filter((n) => !n.outputs.some((y) => values.has(y)));
  eliminateDeadCode(out.graph);
  return out;
}

/** Size metrics of an encoded model. */
export function measureSize(bytes: Uint8Array, opts: MeasureSizeOptions = {}): SizeMetrics {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new ArgumentError('measureSize: pass the non-empty .onnx bytes of the model');
  const model = opts.model ?? readModel(bytes, { validate: false });
  const s = summarize(model, opts.dims ? { dims: opts.dims } : {});
  const sp = weightSparsity(opts.weightsModel ?? model);
  const parameters = opts.weightsModel ? summarize(opts.weightsModel).parameters : s.parameters;
  const files = [bytes, ...(opts.extraFiles ?? [])];
  return {
    fileBytes: files.reduce((a, f) => a + f.length, 0),
    gzipBytes: files.reduce((a, f) => a + gzipSize(f), 0),
    parameters,
    weightBytes: s.bytes,
    sparsity: sp.sparsity,
    zeroWeights: sp.zeros,
    flops: s.flops,
    macs: s.macs,
    assumedDims: s.assumedDims,
    ...(opts.dims && Object.keys(opts.dims).length ? { dims: { ...opts.dims } } : {}),
    byDtype: s.byDtype,
  };
}
