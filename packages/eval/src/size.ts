/**
 * Model size: file and gzip bytes (@whittle/tensor's gzipSize: fflate level 6, browser-safe), parameters, weight sparsity and a FLOPs
 * estimate (from @whittle/graph's `summarize`).
 */
import { ArgumentError, type Tensor, gzipSize } from '@whittle/tensor';
import { getInt, summarize, tensorValues, type Model } from '@whittle/graph';
import { readModel } from '@whittle/onnx';

/** gzip sizes: @whittle/tensor's shared helper (fflate at its documented `GZIP_LEVEL`, 6). */
export { gzipSize, GZIP_LEVEL } from '@whittle/tensor';

/** What {@link weightSparsity} returns. */
export interface SparsityStats {
  /** Elements of the weight tensors looked at (initializers of rank ≥ 2 with a computable dtype). */
  weights: number;
  /** Of those, elements that are zero (for DequantizeLinear inputs: equal to their zero point). */
  zeros: number;
  /** zeros / weights (0 when there are no weights). */
  sparsity: number;
}

/** Zero point of each element of a DequantizeLinear input `x` (per-tensor or per-axis), or undefined. */
function zeroPointOf(model: Model, name: string, t: Tensor): ((i: number) => number) | undefined {
  const g = model.graph;
  const dq = g.nodes.find((n) => n.opType === 'DequantizeLinear' && n.inputs[0] === name);
  if (!dq) return undefined;
  const zpName = dq.inputs[2];
  const zp = zpName ? g.initializers.get(zpName) : undefined;
  if (!zp) return () => 0;
  const z = tensorValues(zp);
  if (z.length === 1) return () => z[0]!;
  if (getInt(dq, 'block_size', 0) > 0 || zp.shape.length !== 1) return undefined; // block-wise: not analysed
  const rank = t.shape.length;
  const axis = ((getInt(dq, 'axis', 1) % rank) + rank) % rank;
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const len = t.shape[axis]!;
  return (i) => z[Math.floor(i / inner) % len]!;
}

/**
 * Fraction of zero weights. Weights are initializers of rank ≥ 2 (matrices and kernels; biases
 * and shape constants are left out); a quantized weight counts as zero when it equals its zero
 * point. Block-quantized weights with zero points are not analysed.
 */
export function weightSparsity(model: Model): SparsityStats {
  let weights = 0;
  let zeros = 0;
  for (const [name, t] of model.graph.initializers) {
    if (t.shape.length < 2 || t.dtype === 'bool') continue;
    const zp = zeroPointOf(model, name, t);
    const hasDq = model.graph.nodes.some((n) => n.opType === 'DequantizeLinear' && n.inputs[0] === name);
    if (hasDq && !zp) continue;
    const v = tensorValues(t);
    for (let i = 0; i < v.length; i++) if (v[i] === (zp ? zp(i) : 0)) zeros++;
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
}

/** Size metrics of an encoded model. */
export function measureSize(bytes: Uint8Array, opts: MeasureSizeOptions = {}): SizeMetrics {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new ArgumentError('measureSize: pass the non-empty .onnx bytes of the model');
  const model = opts.model ?? readModel(bytes, { validate: false });
  const s = summarize(model, opts.dims ? { dims: opts.dims } : {});
  const sp = weightSparsity(model);
  const files = [bytes, ...(opts.extraFiles ?? [])];
  return {
    fileBytes: files.reduce((a, f) => a + f.length, 0),
    gzipBytes: files.reduce((a, f) => a + gzipSize(f), 0),
    parameters: s.parameters,
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
