import { type ActivationRuntime, type CalibrationRuntimeChoice, CalibrationDataError, cloneModel, collectActivations, defineOptions, definePass, throwIfAborted, type Feeds, type Model } from '@whittle/graph';
import { ArgumentError, inverseUpperCholesky, matmul, sliceView, tensor, type BackendName } from '@whittle/tensor';
import { lazyBatchUpdate } from './gptq_linalg.js';
import { runSequential } from './sequential.js';
import { type GroupParams, groupParams, quantizeValue, dequantizeValue } from './quant_math.js';
import { prepareOpset, siteBlockSize, siteGranularity, uniqueWeights } from './rtn.js';
import { SkipLog, nothingReason } from './skips.js';
import { type QuantizedWeight, type WeightSite, type Granularity, canonical, constantWeightNodes, findModelWeightSites, fromCanonical, groupOf, quantizeRtn, dequantizeWeight } from './weights.js';
import { type WeightFormat, writeQuantizedWeights, writeSummary } from './write_weights.js';


/** Options of `gptq`. */
export const gptqOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid (2-bit MatMulNBits as 2-bit codes; 3-bit and other 2-bit forms in 4-bit containers)' },
  symmetric: { type: 'boolean', default: true, description: 'symmetric grid' },
  granularity: { type: 'string', enum: ['per-channel', 'block'], default: 'block', description: 'per-output-channel scales, or group-wise scales (group = blockSize)' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 128, description: 'group size of the scales along the input dimension' },
  format: { type: 'string', enum: ['qdq', 'matmulnbits'], default: 'qdq', description: 'output format (as quantize-weights)' },
  damping: { type: 'number', min: 0, max: 1, default: 0.01, description: 'relative dampening added to diag(H) (percdamp)' },
  lazyBlock: { type: 'number', integer: true, min: 1, default: 128, description: 'columns per lazy batch update' },
  actOrder: { type: 'boolean', default: false, description: 'quantize columns in order of decreasing diag(H) (implies static groups: MatMulNBits/DequantizeLinear hold no column permutation)' },
  staticGroups: { type: 'boolean', default: false, description: 'scales of every group from the original weights before any update (default: each block\'s scales from the error-updated weights when its first column is reached, as the paper)' },
  sequential: { type: 'boolean', default: true, description: 'each layer\'s Hessian from the inputs produced by the already-quantized earlier layers (the paper); false: all from the float model in one pass' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm'], description: 'op types whose weights are quantized' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  maxBatches: { type: 'number', integer: true, min: 1, description: 'use at most this many calibration batches' },
});

/** Gram statistics of one layer input: X^T X (raw, symmetric, cols x cols) and the rows seen. */
export interface Gram {
  xtx: Float64Array;
  n: number;
}

/** An empty {@link Gram} of `cols` columns. */
export function emptyGram(cols: number): Gram {
  return { xtx: new Float64Array(cols * cols), n: 0 };
}

/** Rows of XᵀX per product when only its lower triangle is computed. */
const GRAM_BLOCK = 128;
/** Multiply-adds from which the tensor engine's sgemm takes its WASM tier (WASM_THRESHOLD there). */
const SGEMM_WASM_WORK = 48 * 48 * 48;

/**
 * Add the rows of `x` ([rows, K] row-major) to `g`: XᵀX by the tensor engine's matrix product in
 * float32 (blocked, an order of magnitude faster than a scalar loop), accumulated per call into the
 * float64 sums. For large K only the lower triangle is computed, one band of {@link GRAM_BLOCK}
 * rows at a time (about half the work; every element is the same float32 sum as in the full
 * product, which is exactly symmetric); call {@link symmetrize} after the last batch.
 */
export function accumulateGram(g: Gram, x: ArrayLike<number>, K: number): void {
  const rows = x.length / K;
  const { xtx } = g;
  const xf = x instanceof Float32Array ? x : Float32Array.from(x);
  g.n += rows;
  // bands only where each band's product stays on the same sgemm tier as the whole one would
  if (K <= 2 * GRAM_BLOCK || GRAM_BLOCK * GRAM_BLOCK * rows < SGEMM_WASM_WORK) {
    const t = tensor(xf, [rows, K], 'float32', { backend: 'cpu' });
    const p = matmul(t, t, { transA: true });
    const d = p.dataSync() as Float32Array;
    for (let i = 0; i < d.length; i++) xtx[i] = xtx[i]! + d[i]!;
    p.dispose();
    t.dispose();
    return;
  }
  // Xᵀ row-major: a band of XᵀX rows [i0, i0 + m) is Xᵀ[i0:i0+m] · Xᵀ[0:i0+m]ᵀ, both contiguous
  const xt = new Float32Array(K * rows);
  for (let r = 0; r < rows; r++) for (let c = 0, o = r * K; c < K; c++) xt[c * rows + r] = xf[o + c]!;
  // one tensor, bands as views of it (the matrix product reads strided views without copying)
  const t = tensor(xt, [K, rows], 'float32', { backend: 'cpu' });
  for (let i0 = 0; i0 < K; i0 += GRAM_BLOCK) {
    const m = Math.min(GRAM_BLOCK, K - i0);
    const n = i0 + m;
    const a = sliceView(t, [i0, 0], [n, rows]);
    const b = sliceView(t, [0, 0], [n, rows]);
    const p = matmul(a, b, { transB: true });
    const d = p.dataSync() as Float32Array;
    for (let r = 0; r < m; r++) {
      const o = (i0 + r) * K;
      const q = r * n;
      for (let c = 0; c <= i0 + r; c++) xtx[o + c] = xtx[o + c]! + d[q + c]!;
    }
    p.dispose();
    a.dispose();
    b.dispose();
  }
  t.dispose();
}

/** Copy the lower triangle of a K x K matrix onto the upper one. */
export function symmetrize(xtx: Float64Array): void {
  const K = Math.round(Math.sqrt(xtx.length));
  for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) xtx[j * K + i] = xtx[i * K + j]!;
}

/**
 * Accumulate X^T X (raw, not scaled) of each site's input over calibration batches, all from the
 * model as given (one-shot; the `gptq` pass runs sequentially by default, see {@link runSequential}).
 */
export async function collectGram(model: Model, sites: readonly WeightSite[], calibration: AsyncIterable<Feeds> | Iterable<Feeds>, opts: { pass?: string; backend?: BackendName; maxBatches?: number; signal?: AbortSignal; activationRuntime?: ActivationRuntime | undefined; calibrationRuntime?: CalibrationRuntimeChoice | undefined } = {}): Promise<Map<WeightSite, Gram>> {
  const res = new Map(sites.map((s) => [s, emptyGram(s.cols)]));
  const inputs = [...new Set(sites.map((s) => s.node.inputs[0]!))];
  // activations from the shared collector: onnxruntime when the context injects it, else the interpreter
  await collectActivations(model, [{ names: inputs, consume: (values) => { for (const s of sites) accumulateGram(res.get(s)!, values.get(s.node.inputs[0]!)!.data, s.cols); } }], calibration, {
    pass: opts.pass ?? 'gptq', activationRuntime: opts.activationRuntime, runtime: opts.calibrationRuntime, backend: opts.backend ?? 'cpu', signal: opts.signal, maxBatches: opts.maxBatches,
  });
  for (const { xtx } of res.values()) symmetrize(xtx);
  return res;
}

/**
 * Layer-output MSE of replacing W by Q: mean over outputs and samples of ((W - Q) x)^2. With
 * `maxRows`, estimated from that many evenly spaced output rows (each row costs cols² operations).
 */
export function outputMse(w: Float64Array, q: Float64Array, rows: number, cols: number, xtx: Float64Array, n: number, maxRows = rows): number {
  const picked: number[] = [];
  const step = Math.max(1, rows / Math.max(1, maxRows));
  for (let f = 0; f < rows; f += step) picked.push(Math.floor(f));
  // four rows at a time share each read of xtx (four independent sums instead of one); the terms
  // are added to the total in the order of a row-by-row loop, so the result is the same number
  const e = [new Float64Array(cols), new Float64Array(cols), new Float64Array(cols), new Float64Array(cols)] as const;
  const terms = [new Float64Array(cols), new Float64Array(cols), new Float64Array(cols), new Float64Array(cols)] as const;
  const [e0, e1, e2, e3] = e;
  let total = 0;
  for (let p0 = 0; p0 < picked.length; p0 += 4) {
    const count = Math.min(4, picked.length - p0);
    for (let t = 0; t < 4; t++) {
      if (t >= count) {
        e[t]!.fill(0);
        continue;
      }
      const o = picked[p0 + t]! * cols;
      for (let c = 0; c < cols; c++) e[t]![c] = w[o + c]! - q[o + c]!;
    }
    for (let i = 0; i < cols; i++) {
      if (e0[i] === 0 && e1[i] === 0 && e2[i] === 0 && e3[i] === 0) continue;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      const row = i * cols;
      for (let j = 0; j < cols; j++) {
        const x = xtx[row + j]!;
        s0 += x * e0[j]!;
        s1 += x * e1[j]!;
        s2 += x * e2[j]!;
        s3 += x * e3[j]!;
      }
      terms[0][i] = e0[i]! * s0;
      terms[1][i] = e1[i]! * s1;
      terms[2][i] = e2[i]! * s2;
      terms[3][i] = e3[i]! * s3;
    }
    for (let t = 0; t < count; t++) for (let i = 0; i < cols; i++) if (e[t]![i] !== 0) total += terms[t]![i]!;
  }
  return total / Math.max(1, n * picked.length);
}

/** Output rows the report's GPTQ / RTN output MSE is estimated from. */
const MSE_ROWS = 64;

/** Options of {@link gptqQuantize}. */
export interface GptqSpec {
  bits: number;
  symmetric: boolean;
  granularity: Granularity;
  blockSize: number;
  damping: number;
  lazyBlock: number;
  actOrder: boolean;
  /** Group scales from the original weights (forced by actOrder and per-channel). */
  staticGroups?: boolean;
}

/**
 * GPTQ on a canonical [rows, cols] weight with Gram matrix X^T X (cols x cols): columns are
 * quantized in order (or by decreasing diag(H) with actOrder), the error of each is spread onto
 * the remaining columns through the upper Cholesky factor of H^-1, with lazy block updates.
 */
export function gptqQuantize(w0: Float64Array, rows: number, cols: number, xtx: Float64Array, spec: GptqSpec): QuantizedWeight {
  const K = cols;
  const H = new Float64Array(xtx.length);
  for (let i = 0; i < H.length; i++) H[i] = 2 * xtx[i]!;
  const W = Float64Array.from(w0);
  for (let i = 0; i < K; i++) {
    if (H[i * K + i] === 0) {
      H[i * K + i] = 1;
      for (let r = 0; r < rows; r++) W[r * K + i] = 0;
    }
  }
  const gspec = { granularity: spec.granularity, cols: K, blockSize: spec.blockSize };
  const nGroups = spec.granularity === 'per-channel' ? rows : rows * Math.ceil(K / spec.blockSize);
  const params: GroupParams[] = new Array(nGroups);
  // static groups: with act-order (or per-channel), take group ranges from the original weights
  const staticGroups = spec.actOrder || spec.staticGroups === true || spec.granularity !== 'block';
  const setGroup = (r: number, c0: number, c1: number, src: Float64Array): void => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = c0; c < c1; c++) {
      const v = src[r * K + c]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    params[groupOf(gspec, r, c0)] = groupParams(lo, hi, spec);
  };
  if (staticGroups) {
    for (let r = 0; r < rows; r++) {
      if (spec.granularity === 'per-channel') setGroup(r, 0, K, W);
      else for (let c0 = 0; c0 < K; c0 += spec.blockSize) setGroup(r, c0, Math.min(K, c0 + spec.blockSize), W);
    }
  }
  // column order
  const perm = Array.from({ length: K }, (_, i) => i);
  if (spec.actOrder) perm.sort((a, b) => H[b * K + b]! - H[a * K + a]!);
  const Hp = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) Hp[i * K + j] = H[perm[i]! * K + perm[j]!]!;
  const U = inverseUpperCholesky(Hp, K, spec.damping, 'gptq');
  const codes = new Uint8Array(rows * K);
  const Err = new Float64Array(rows * spec.lazyBlock);
  // columns in processing order, so every update below walks memory contiguously (the identity
  // without act-order; dynamic groups only occur then and read W itself)
  let Wp = W;
  if (spec.actOrder) {
    Wp = new Float64Array(W.length);
    for (let r = 0; r < rows; r++) for (let i = 0; i < K; i++) Wp[r * K + i] = W[r * K + perm[i]!]!;
  }
  for (let i1 = 0; i1 < K; i1 += spec.lazyBlock) {
    const i2 = Math.min(K, i1 + spec.lazyBlock);
    const count = i2 - i1;
    // rows are independent within a block (a row's groups read only that row): each row runs
    // through the block's columns in turn, its part of W and the block of U staying in cache
    for (let r = 0; r < rows; r++) {
      const base = r * K;
      for (let i = 0; i < count; i++) {
        const pi = i1 + i;
        const col = perm[pi]!;
        if (!staticGroups && col % spec.blockSize === 0) setGroup(r, col, Math.min(K, col + spec.blockSize), W);
        const w = Wp[base + pi]!;
        const p = params[groupOf(gspec, r, col)]!;
        const code = quantizeValue(w, p, spec.bits);
        codes[base + col] = code;
        const err = (w - dequantizeValue(code, p)) / U[pi * K + pi]!;
        Err[r * spec.lazyBlock + i] = err;
        // update remaining columns of this lazy block
        const urow = pi * K;
        for (let j = pi + 1; j < i2; j++) Wp[base + j] = Wp[base + j]! - err * U[urow + j]!;
      }
    }
    // lazy update of all later columns: W[:, i2:] -= Err · U[i1:i2, i2:]
    if (i2 < K) lazyBatchUpdate(Wp, rows, K, Err, spec.lazyBlock, count, U, i1, i2);
  }
  return {
    rows,
    cols: K,
    bits: spec.bits,
    symmetric: spec.symmetric,
    granularity: spec.granularity,
    blockSize: spec.blockSize,
    codes,
    scales: Float32Array.from(params, (p) => p.scale),
    zeroPoints: Uint8Array.from(params, (p) => p.zeroPoint),
  };
}

/**
 * `gptq`: GPTQ weight quantization of MatMul/Gemm weights from calibration activations (layer
 * inputs computed by the context's activation runtime — onnxruntime in Node — else Whittle's
 * interpreter); same output formats as `quantize-weights`. Reports the
 * layer-output MSE of GPTQ and of RTN on the calibration data for every layer.
 */
export const gptqPass = definePass({
  specificationVersion: 'v1',
  name: 'gptq',
  cli: { group: 'quantize', command: 'gptq' },
  description: 'GPTQ (Hessian-aware, error-compensating) weight quantization of MatMul/Gemm weights from calibration data.',
  optionsSchema: gptqOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (!ctx.calibration) throw new CalibrationDataError('gptq', 'gptq: needs calibration data (ctx.calibration; --data on the command line): none was given');
    const prepared = prepareOpset(cloneModel(model), o.bits, o.granularity, o.format);
    const out = prepared.model;
    const skips = new SkipLog();
    const sites = findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { subgraphs: false, subgraphReason: 'inside a subgraph: GPTQ collects layer inputs in the main graph only', skips });
    const weights = uniqueWeights(sites);
    const entries: { site: WeightSite; q: QuantizedWeight }[] = [];
    const layers: Record<string, unknown>[] = [];
    const quantizeGroup = async (group: WeightSite[], grams: Gram[]): Promise<QuantizedWeight> => {
      const site = group[0]!;
      // a shared weight sees the inputs of all its readers
      const xtx = Float64Array.from(grams[0]!.xtx);
      let n = grams[0]!.n;
      for (const g2 of grams.slice(1)) {
        for (let k = 0; k < xtx.length; k++) xtx[k] = xtx[k]! + g2.xtx[k]!;
        n += g2.n;
      }
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      const spec = { bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(site, o.granularity), blockSize: siteBlockSize(site, o.blockSize) };
      const q = gptqQuantize(w, site.rows, site.cols, xtx, { ...spec, damping: o.damping, lazyBlock: o.lazyBlock, actOrder: o.actOrder, staticGroups: o.staticGroups });
      const rtn = quantizeRtn(w, site.rows, site.cols, spec);
      const gptqMse = outputMse(w, dequantizeWeight(q), site.rows, site.cols, xtx, n, MSE_ROWS);
      const rtnMse = outputMse(w, dequantizeWeight(rtn), site.rows, site.cols, xtx, n, MSE_ROWS);
      layers.push({ node: site.node.name, weight: site.name, readers: group.length, gptqOutputMse: gptqMse, rtnOutputMse: rtnMse, samples: n });
      for (const s of group) entries.push({ site: s, q });
      ctx.onProgress(entries.length / sites.length, site.name);
      return q;
    };
    let batches = 0;
    if (o.sequential) {
      // quantize each weight once all its readers' inputs were seen, and put its dequantized values
      // into the working model so every later layer is calibrated on the quantized model's activations
      const work = cloneModel(model);
      // one Gram per input tensor, shared by the layers reading it (Q/K/V)
      const grams = new Map<string, Gram>();
      const pending = new Set(weights);
      const seen = new Set<string>();
      batches = await runSequential(work, [...new Set(sites.map((s) => s.node.inputs[0]!))], ctx.calibration, async (name, values) => {
        const K = sites.find((s) => s.node.inputs[0] === name)!.cols;
        const g = emptyGram(K);
        for (const v of values) accumulateGram(g, (await v.data()) as Float32Array, K);
        symmetrize(g.xtx);
        grams.set(name, g);
        seen.add(name);
        for (const group of [...pending]) {
          if (!group.every((s) => seen.has(s.node.inputs[0]!))) continue;
          pending.delete(group);
          const gs = group.map((s) => grams.get(s.node.inputs[0]!)!);
          const q = await quantizeGroup(group, gs);
          const site = group[0]!;
          work.graph.initializers.set(site.name, tensor(fromCanonical(site, dequantizeWeight(q)), site.shape, 'float32', { backend: 'cpu' }));
        }
        // free the Gram matrices no pending weight reads any more
        for (const k of [...grams.keys()]) if (![...pending].some((group) => group.some((s) => s.node.inputs[0] === k))) grams.delete(k);
      }, { backend: ctx.backend, pass: 'gptq', activationRuntime: ctx.activationRuntime, runtime: ctx.calibrationRuntime, logger: ctx.logger, ...(ctx.signal ? { signal: ctx.signal } : {}), ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}) });
    } else {
      const gram = await collectGram(model, sites, ctx.calibration, { backend: ctx.backend, signal: ctx.signal, activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}) });
      for (const group of weights) {
        throwIfAborted(ctx.signal, 'gptq');
        await quantizeGroup(group, group.map((s) => gram.get(s)!));
      }
    }
    const r = await writeQuantizedWeights(out, entries, o.format as WeightFormat, skips);
    const s = writeSummary(r, prepared.raise);
    const changed = r.layers.length > 0;
    const reason = changed ? '' : nothingReason(`0 ${o.ops.join('/')} weights quantized`, skips, constantWeightNodes(out));
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed ? `GPTQ ${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}${o.actOrder ? ', act-order' : ''}${o.sequential ? ', sequential' : ', one-shot'}) as ${o.format}: ${s.text}` : reason,
        stats: { layers: r.layers.length, weights: weights.length, skipped: skips.size, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings: r.warnings,
        details: { ...(changed ? {} : { reason }), ...s.details, sequential: o.sequential, ...(o.sequential ? { batches } : {}), layers, written: r.layers },
      },
    };
  },
});
