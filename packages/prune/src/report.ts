import { type Model, summarize } from '@whittle/graph';
import { GZIP_LEVEL, gzipSize } from '@whittle/tensor';
import { countZeros, findPrunableWeights, floatValues, weightKey, weightTensor } from './layers.js';

/** Per-layer numbers of a (pruned) model. */
export interface LayerSparsity {
  /** Node name (`path: name` inside a subgraph). */
  node: string;
  opType: string;
  /** Initializer name (`path: name` inside a subgraph). */
  weight: string;
  shape: number[];
  /** Fraction of zero weights. */
  sparsity: number;
  nonzero: number;
  total: number;
  /** FLOPs at batch 1 as stored (dense kernels) and counting only nonzero weights. */
  flopsDense: number;
  flopsEffective: number;
}

/** What {@link sparsityReport} returns. */
export interface SparsityReport {
  layers: LayerSparsity[];
  /** Over the prunable weights. */
  sparsity: number;
  nonzero: number;
  total: number;
  /** All parameters of the model (@whittle/graph's `summarize`: initializers and weight Constant nodes). */
  parameters: number;
  /** Whole-model FLOPs at batch 1 (all Conv/Gemm/MatMul), dense and effective. */
  flopsDense: number;
  flopsEffective: number;
  /**
   * Bytes of all initializers, and of their gzip-compressed concatenation (zeros compress;
   * fflate at {@link REPORT_GZIP_LEVEL}).
   */
  weightBytes: number;
  weightGzipBytes: number;
  /** Serialized model size and gzip size (fflate at {@link REPORT_GZIP_LEVEL}), when a serializer was given. */
  fileBytes?: number;
  fileGzipBytes?: number;
}

/**
 * gzip level of {@link sparsityReport}'s sizes: @whittle/tensor's `GZIP_LEVEL` (6; see there for
 * the measured level 6 vs 9 sizes and times), kept under this name for existing callers.
 */
export const REPORT_GZIP_LEVEL = GZIP_LEVEL;

/** Raw little-endian bytes of all initializers, concatenated (graph order). */
export async function initializerBytesOf(model: Model): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const t of model.graph.initializers.values()) {
    const d = await t.data();
    const v = ArrayBuffer.isView(d) ? d : new Float32Array(0);
    parts.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  for (const r of model.graph.rawInitializers.values()) if (r.rawData) parts.push(r.rawData);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Sparsity, parameters (nonzero/total), FLOPs (dense and effective, batch 1) per prunable layer
 * (including weights inside If/Loop/Scan bodies; their FLOPs count as 0) and overall, plus weight bytes and their gzip size. Give `serialize` (e.g. @whittle/onnx's
 * writeModel) to also get the file size and the file's gzip size (gzip sizes at
 * {@link REPORT_GZIP_LEVEL}); `gzip: false` skips compressing
 * the weights (structured pruning makes no zeros; `weightGzipBytes` is then NaN).
 */
export async function sparsityReport(model: Model, opts: { serialize?: (m: Model) => Uint8Array | Promise<Uint8Array>; dims?: Record<string, number>; gzip?: boolean } = {}): Promise<SparsityReport> {
  const summary = summarize(model, { dims: opts.dims ?? {} });
  const flopsBy = new Map(summary.layers.map((l) => [l.node, l.flops]));
  const layers: LayerSparsity[] = [];
  let nonzero = 0;
  let total = 0;
  let eff = 0;
  let denseLayers = 0;
  for (const w of findPrunableWeights(model, { subgraphs: true })) {
    // read in place: counting zeros needs no copy of the weights
    const t = weightTensor(model, w);
    const d = await t.data();
    const v = d instanceof Float32Array ? d : await floatValues(t);
    const z = countZeros(v);
    const fd = flopsBy.get(w.node) ?? 0;
    const density = v.length ? (v.length - z) / v.length : 1;
    layers.push({ node: w.node, opType: w.opType, weight: weightKey(w), shape: [...w.shape], sparsity: v.length ? z / v.length : 0, nonzero: v.length - z, total: v.length, flopsDense: fd, flopsEffective: Math.round(fd * density) });
    nonzero += v.length - z;
    total += v.length;
    eff += fd * density;
    denseLayers += fd;
  }
  const weights = await initializerBytesOf(model);
  const report: SparsityReport = {
    layers,
    sparsity: total ? 1 - nonzero / total : 0,
    nonzero,
    total,
    parameters: summary.parameters,
    flopsDense: summary.flops,
    flopsEffective: Math.round(summary.flops - denseLayers + eff),
    weightBytes: weights.length,
    weightGzipBytes: opts.gzip === false ? Number.NaN : gzipSize(weights),
  };
  if (opts.serialize) {
    const bytes = await opts.serialize(model);
    report.fileBytes = bytes.length;
    report.fileGzipBytes = gzipSize(bytes);
  }
  return report;
}

/** Before/after numbers for a PassReport's `stats`. */
export function statsOf(before: SparsityReport, after: SparsityReport): Record<string, number> {
  return {
    sparsityBefore: before.sparsity,
    sparsityAfter: after.sparsity,
    parametersBefore: before.parameters,
    parametersAfter: after.parameters,
    nonzeroBefore: before.nonzero,
    nonzeroAfter: after.nonzero,
    flopsBefore: before.flopsDense,
    flopsAfter: after.flopsDense,
    effectiveFlopsAfter: after.flopsEffective,
    weightBytesBefore: before.weightBytes,
    weightBytesAfter: after.weightBytes,
    weightGzipBytesBefore: before.weightGzipBytes,
    weightGzipBytesAfter: after.weightGzipBytes,
  };
}
