import { type ActivationRuntime, type CalibrationRuntimeChoice, cloneModel, collectActivations, defineOptions, definePass, throwIfAborted, type Feeds, type Model } from '@whittle/graph';
import { ArgumentError, cholesky, matmul, matrix, tensor, type BackendName } from '@whittle/tensor';
import { runSequential } from './sequential.js';
import { type GroupParams, groupParams, quantizeValue, dequantizeValue } from './quant_math.js';
import { prepareOpset, siteBlockSize, siteGranularity, uniqueWeights } from './rtn.js';
import { SkipLog, nothingReason } from './skips.js';
import { type QuantizedWeight, type WeightSite, type Granularity, canonical, constantWeightNodes, findModelWeightSites, fromCanonical, groupOf, quantizeRtn, dequantizeWeight } from './weights.js';
import { type WeightFormat, writeQuantizedWeights, writeSummary } from './write_weights.js';

/** Options of `gptq`. */
export const gptqOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid (3/2-bit in 4-bit containers)' },
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

/** Gram statistics of one layer input: X^T X (raw, symmetric, cols x cols), rows seen, max |x| per column. */
export interface Gram {
  xtx: Float64Array;
  n: number;
  absMax: Float64Array;
}

/** An empty {@link Gram} of `cols` columns. */
export function emptyGram(cols: number): Gram {
  return { xtx: new Float64Array(cols * cols), n: 0, absMax: new Float64Array(cols) };
}

/**
 * Add the rows of `x` ([rows, K] row-major) to `g`: XᵀX by the tensor engine's matrix product in
 * float32 (blocked, an order of magnitude faster than a scalar loop), accumulated per call into the
 * float64 sums. Fills the whole matrix ({@link symmetrize} is then a no-op).
 */
export function accumulateGram(g: Gram, x: ArrayLike<number>, K: number): void {
  const rows = x.length / K;
  const { xtx, absMax } = g;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    const c = i % K;
    if (a > absMax[c]!) absMax[c] = a;
  }
  const t = tensor(x instanceof Float32Array ? x : Float32Array.from(x), [rows, K], 'float32', { backend: 'cpu' });
  const p = matmul(t, t, { transA: true });
  const d = p.dataSync() as Float32Array;
  for (let i = 0; i < d.length; i++) xtx[i] = xtx[i]! + d[i]!;
  p.dispose();
  t.dispose();
  g.n += rows;
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
export async function collectGram(model: Model, sites: readonly WeightSite[], calibration: AsyncIterable<Feeds> | Iterable<Feeds>, opts: { backend?: BackendName; maxBatches?: number; signal?: AbortSignal; activationRuntime?: ActivationRuntime | undefined; calibrationRuntime?: CalibrationRuntimeChoice | undefined } = {}): Promise<Map<WeightSite, Gram>> {
  const res = new Map(sites.map((s) => [s, emptyGram(s.cols)]));
  const inputs = [...new Set(sites.map((s) => s.node.inputs[0]!))];
  // activations from the shared collector: onnxruntime when the context injects it, else the interpreter
  await collectActivations(model, [{ names: inputs, consume: (values) => { for (const s of sites) accumulateGram(res.get(s)!, values.get(s.node.inputs[0]!)!.data, s.cols); } }], calibration, {
    pass: 'gptq', activationRuntime: opts.activationRuntime, runtime: opts.calibrationRuntime, backend: opts.backend ?? 'cpu', signal: opts.signal, maxBatches: opts.maxBatches, requireBatches: false,
  });
  for (const { xtx } of res.values()) symmetrize(xtx);
  return res;
}

/**
 * Layer-output MSE of replacing W by Q: mean over outputs and samples of ((W - Q) x)^2. With
 * `maxRows`, estimated from that many evenly spaced output rows (each row costs cols² operations).
 */
export function outputMse(w: Float64Array, q: Float64Array, rows: number, cols: number, xtx: Float64Array, n: number, maxRows = rows): number {
  let total = 0;
  const e = new Float64Array(cols);
  const step = Math.max(1, rows / Math.max(1, maxRows));
  let used = 0;
  for (let f = 0; f < rows; f += step) {
    const r = Math.floor(f);
    used++;
    for (let c = 0; c < cols; c++) e[c] = w[r * cols + c]! - q[r * cols + c]!;
    for (let i = 0; i < cols; i++) {
      if (e[i] === 0) continue;
      let s = 0;
      const row = i * cols;
      for (let j = 0; j < cols; j++) s += xtx[row + j]! * e[j]!;
      total += e[i]! * s;
    }
  }
  return total / Math.max(1, n * used);
}

/**
 * The upper Cholesky factor U of (H + damping·mean(diag H)·I)⁻¹ (so that H⁻¹ = UᵀU), from one
 * Cholesky factorisation and one triangular inverse instead of inverting H and factorising the
 * inverse: with J the reversal permutation and J·H·J = L·Lᵀ, H = R·Rᵀ for the upper triangular
 * R = J·L·J, so H⁻¹ = (R⁻¹)ᵀ·R⁻¹ and U = R⁻¹ = J·L⁻¹·J (positive diagonal: the unique factor).
 */
export function inverseUpperCholesky(H: Float64Array, K: number, damping: number): Float64Array {
  let mean = 0;
  for (let i = 0; i < K; i++) mean += H[i * K + i]!;
  const shift = (damping * mean) / Math.max(1, K);
  const rev = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = 0; j <= i; j++) rev[i * K + j] = H[(K - 1 - i) * K + (K - 1 - j)]! + (i === j ? shift : 0);
  const L = cholesky(matrix(K, K, rev)).data;
  // X = L⁻¹ row by row (lower triangular): X[i, :i] = −Σ_k L[i, k]·X[k, :] / L[i, i], X[i, i] = 1 / L[i, i]
  const X = rev.fill(0);
  for (let i = 0; i < K; i++) {
    const xi = i * K;
    for (let k = 0; k < i; k++) {
      const f = L[xi + k]!;
      if (f === 0) continue;
      const xk = k * K;
      for (let c = 0; c <= k; c++) X[xi + c] = X[xi + c]! - f * X[xk + c]!;
    }
    X[xi + i] = X[xi + i]! + 1;
    const inv = 1 / L[xi + i]!;
    for (let c = 0; c <= i; c++) X[xi + c] = X[xi + c]! * inv;
  }
  const U = new Float64Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i; j < K; j++) U[i * K + j] = X[(K - 1 - i) * K + (K - 1 - j)]!;
  return U;
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
  const U = inverseUpperCholesky(Hp, K, spec.damping);
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
    for (let i = 0; i < count; i++) {
      const pi = i1 + i;
      const col = perm[pi]!;
      if (!staticGroups && col % spec.blockSize === 0) {
        for (let r = 0; r < rows; r++) setGroup(r, col, Math.min(K, col + spec.blockSize), W);
      }
      const d = U[pi * K + pi]!;
      for (let r = 0; r < rows; r++) {
        const w = Wp[r * K + pi]!;
        const p = params[groupOf(gspec, r, col)]!;
        const code = quantizeValue(w, p, spec.bits);
        codes[r * K + col] = code;
        const err = (w - dequantizeValue(code, p)) / d;
        Err[r * spec.lazyBlock + i] = err;
        // update remaining columns of this lazy block
        const base = r * K;
        const urow = pi * K;
        for (let j = pi + 1; j < i2; j++) Wp[base + j] = Wp[base + j]! - err * U[urow + j]!;
      }
    }
    // lazy update of all later columns
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < count; i++) {
        const err = Err[r * spec.lazyBlock + i]!;
        if (err === 0) continue;
        const urow = (i1 + i) * K;
        const base = r * K;
        for (let j = i2; j < K; j++) Wp[base + j] = Wp[base + j]! - err * U[urow + j]!;
      }
    }
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
 * inputs through Whittle's interpreter); same output formats as `quantize-weights`. Reports the
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
    if (!ctx.calibration) throw new ArgumentError("gptq: no calibration data; give the pass context a 'calibration' iterable of feeds");
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
      }, { backend: ctx.backend, ...(ctx.signal ? { signal: ctx.signal } : {}), ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}) });
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
