/**
 * HQQ-style weight quantization (Badri & Shaji, "Half-Quadratic Quantization", 2023): no
 * calibration data; per group, the zero point is optimised against an lp (p < 1) reconstruction
 * loss by half-quadratic splitting — alternate a shrinkage step on the residual W − Q⁻¹(Q(W))
 * (outliers get a sparse error term instead of pulling the grid) and a closed-form zero-point
 * update — then, because MatMulNBits / DequantizeLinear store integer zero points, the zero point
 * is rounded and the scale refitted by least squares on the resulting codes. A group keeps the
 * min/max (RTN) parameters when that is not better in squared error.
 */
import { NameGenerator, PassOptionsError, cloneModel, defineOptions, definePass, throwIfAborted } from '@whittle/graph';
import { type GroupParams, groupParams, roundEven } from './quant_math.js';
import { WEIGHT_ONLY_FLOAT_TYPES, float16NeedsDequantize, prepareOpset, siteBlockSize, siteGranularity, uniqueWeights } from './rtn.js';
import { SkipLog, nothingReason } from './skips.js';
import { type Granularity, type QuantizedWeight, type WeightSite, canonical, constantWeightNodes, dequantizeWeight, findModelWeightSites, quantizeRtn, siteValues } from './weights.js';
import { mse } from './quant_math.js';
import { type WeightFormat, writeQuantizedWeights, writeSummary } from './write_weights.js';
import { setMatMulNBitsAccuracyLevel } from './accuracy_level.js';
import { requantizeInt8Layers } from './requantize_int8.js';
import { requantizedNote } from './rtn.js';
import { gatherWebGpuWarning } from './gather_webgpu.js';
import { modelInitializerBytes } from './weights.js';

/** Options of {@link hqqQuantize}. */
export interface HqqSpec {
  bits: number;
  granularity: Granularity;
  blockSize: number;
  /** Half-quadratic iterations (HQQ's default 20). */
  iters: number;
  /** p of the lp loss (HQQ's default 0.7). */
  lpNorm: number;
  /** Initial penalty β and its growth factor κ per iteration (HQQ: 10, 1.01). */
  beta: number;
  kappa: number;
}

/** Generalised soft threshold of HQQ: sign(x) · max(0, |x| − |x|^(p−1) / β). */
function shrink(x: number, beta: number, p: number): number {
  const a = Math.abs(x);
  if (a === 0) return 0;
  const t = a - a ** (p - 1) / beta;
  return t > 0 ? Math.sign(x) * t : 0;
}

/** Squared error of group `w[c0..c1)` on the grid (s, z) with integer codes in [0, max]. */
function groupError(w: Float64Array, c0: number, c1: number, s: number, z: number, max: number): number {
  let e = 0;
  for (let i = c0; i < c1; i++) {
    const q = Math.min(max, Math.max(0, roundEven(w[i]! / s + z)));
    const d = w[i]! - (q - z) * s;
    e += d * d;
  }
  return e;
}

/** HQQ parameters of one group (asymmetric grid); falls back to `init` when not better. */
function optimiseGroup(w: Float64Array, c0: number, c1: number, init: GroupParams, spec: HqqSpec): GroupParams {
  const max = 2 ** spec.bits - 1;
  const s = init.scale;
  let z = init.zeroPoint;
  let beta = spec.beta;
  const n = c1 - c0;
  let best = Infinity;
  let bestZ = z;
  for (let it = 0; it < spec.iters; it++) {
    let sum = 0;
    let err = 0;
    for (let i = c0; i < c1; i++) {
      const q = Math.min(max, Math.max(0, Math.round(w[i]! / s + z)));
      const r = (q - z) * s;
      const e = shrink(w[i]! - r, beta, spec.lpNorm);
      sum += q - (w[i]! - e) / s;
      err += Math.abs(w[i]! - r);
    }
    if (err >= best) break;
    best = err;
    bestZ = z;
    z = sum / n;
    beta *= spec.kappa;
  }
  // integer zero point, then the least-squares scale for the codes it gives
  const zi = Math.min(max, Math.max(0, Math.round(bestZ)));
  let num = 0;
  let den = 0;
  for (let i = c0; i < c1; i++) {
    const q = Math.min(max, Math.max(0, roundEven(w[i]! / s + zi)));
    num += (q - zi) * w[i]!;
    den += (q - zi) * (q - zi);
  }
  const s2 = den > 0 && num > 0 ? num / den : s;
  const cand = groupError(w, c0, c1, s2, zi, max) <= groupError(w, c0, c1, s, zi, max) ? { scale: s2, zeroPoint: zi } : { scale: s, zeroPoint: zi };
  return groupError(w, c0, c1, cand.scale, cand.zeroPoint, max) < groupError(w, c0, c1, init.scale, init.zeroPoint, max) ? cand : init;
}

/** HQQ-style quantization of a canonical [rows, cols] matrix (asymmetric, integer zero points). */
export function hqqQuantize(w: Float64Array, rows: number, cols: number, spec: HqqSpec): QuantizedWeight {
  const nb = spec.granularity === 'block' ? Math.ceil(cols / spec.blockSize) : 1;
  const seg = spec.granularity === 'block' ? spec.blockSize : cols;
  const groups = spec.granularity === 'per-tensor' ? 1 : rows * nb;
  const scales = new Float32Array(groups);
  const zeroPoints = new Uint8Array(groups);
  const codes = new Uint8Array(rows * cols);
  const max = 2 ** spec.bits - 1;
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const c0 = r * cols + b * seg;
      const c1 = r * cols + Math.min(cols, (b + 1) * seg);
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = c0; i < c1; i++) {
        lo = Math.min(lo, w[i]!);
        hi = Math.max(hi, w[i]!);
      }
      const p = optimiseGroup(w, c0, c1, groupParams(lo, hi, { bits: spec.bits, symmetric: false }), spec);
      const g = r * nb + b;
      scales[g] = p.scale;
      zeroPoints[g] = p.zeroPoint;
      for (let i = c0; i < c1; i++) codes[i] = Math.min(max, Math.max(0, roundEven(w[i]! / Math.fround(p.scale) + p.zeroPoint)));
    }
  }
  return { rows, cols, bits: spec.bits, symmetric: false, granularity: spec.granularity === 'per-tensor' ? 'per-channel' : spec.granularity, blockSize: spec.blockSize, codes, scales, zeroPoints };
}

/** Options of `quantize-hqq`. */
export const hqqOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid (2-bit MatMulNBits as 2-bit codes; 3-bit and other 2-bit forms in 4-bit containers)' },
  granularity: { type: 'string', enum: ['per-channel', 'block'], default: 'block', description: 'per-output-channel groups, or blocks of blockSize along the input dimension' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 64, description: 'group size along the input dimension (HQQ commonly 64)' },
  format: { type: 'string', enum: ['qdq', 'matmulnbits'], default: 'matmulnbits', description: 'output format (as quantize-weights)' },
  accuracyLevel: { type: 'number', integer: true, min: 0, max: 4, default: 0, description: 'MatMulNBits accuracy_level (as quantize-weights)' },
  iters: { type: 'number', integer: true, min: 1, max: 200, default: 20, description: 'half-quadratic iterations per group' },
  lpNorm: { type: 'number', min: 0.1, max: 1, default: 0.7, description: 'p of the lp reconstruction loss (< 1: robust to outlier weights)' },
  beta: { type: 'number', min: 1e-3, default: 10, description: 'initial half-quadratic penalty' },
  kappa: { type: 'number', min: 1, max: 2, default: 1.01, description: 'penalty growth per iteration' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm'], description: 'op types whose weights are quantized' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  requantizeInt8: { type: 'boolean', default: false, description: "format matmulnbits, granularity block: also re-quantize the weights the model already holds as int8 (as quantize-weights' requantizeInt8), with HQQ's grid fitted to their dequantized values (asymmetric: token tables store zero points)" },
});

/**
 * `quantize-hqq`: calibration-free HQQ-style weight quantization of MatMul/Gemm weights, written
 * like `quantize-weights` (MatMulNBits or DequantizeLinear). Reports per layer the weight MSE of
 * HQQ and of min/max RTN on the same grid.
 */
export const quantizeHqqPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-hqq',
  cli: { group: 'quantize', command: 'hqq' },
  description: 'HQQ-style calibration-free weight quantization (half-quadratic zero-point optimisation, integer zero points) as MatMulNBits or DequantizeLinear.',
  optionsSchema: hqqOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (o.requantizeInt8 && (o.format !== 'matmulnbits' || o.granularity !== 'block')) throw new PassOptionsError('quantize-hqq', `pass 'quantize-hqq': option 'requantizeInt8' writes MatMulNBits: it needs option 'format' = 'matmulnbits' and option 'granularity' = 'block' (got '${o.format}', '${o.granularity}')`);
    const prepared = prepareOpset(cloneModel(model), o.bits, o.granularity, o.format, float16NeedsDequantize(model, o.ops, { names: o.excludeNodes }, o.bits, o.granularity, o.format));
    const out = prepared.model;
    const bytesIn = modelInitializerBytes(out);
    const hqq = (w: Float64Array, rows: number, cols: number, blockSize: number): QuantizedWeight => hqqQuantize(w, rows, cols, { bits: o.bits, granularity: 'block', blockSize, iters: o.iters, lpNorm: o.lpNorm, beta: o.beta, kappa: o.kappa });
    const requantized = o.requantizeInt8 ? await requantizeInt8Layers(out, { bits: o.bits, symmetric: false, blockSize: o.blockSize, quantize: hqq }, new NameGenerator(out.graph), { signal: ctx.signal, onProgress: (f, m) => ctx.onProgress(f, m), exclude: { names: o.excludeNodes } }) : undefined;
    const skips = new SkipLog();
    const sites = findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { skips, floatTypes: WEIGHT_ONLY_FLOAT_TYPES });
    const weights = uniqueWeights(sites);
    const entries: { site: WeightSite; q: QuantizedWeight }[] = [];
    const layers: Record<string, unknown>[] = [];
    for (const [i, group] of weights.entries()) {
      throwIfAborted(ctx.signal, 'quantize-hqq');
      const site = group[0]!;
      // float16 weights decoded to float32; the writer gives them float16 scales
      const w = canonical(site, await siteValues(site));
      const spec = { bits: o.bits, granularity: siteGranularity(site, o.granularity), blockSize: siteBlockSize(site, o.blockSize) };
      const q = hqqQuantize(w, site.rows, site.cols, { ...spec, iters: o.iters, lpNorm: o.lpNorm, beta: o.beta, kappa: o.kappa });
      const rtn = quantizeRtn(w, site.rows, site.cols, { ...spec, symmetric: false });
      layers.push({ node: site.node.name, weight: site.name, hqqWeightMse: mse(w, dequantizeWeight(q)), rtnWeightMse: mse(w, dequantizeWeight(rtn)) });
      for (const s of group) entries.push({ site: s, q });
      ctx.onProgress((i + 1) / weights.length, site.name);
    }
    const r = await writeQuantizedWeights(out, entries, o.format as WeightFormat, skips);
    const accuracySet = o.accuracyLevel > 0 ? setMatMulNBitsAccuracyLevel(out, o.accuracyLevel) : 0;
    if (requantized) {
      r.bytesBefore = bytesIn;
      r.bytesAfter = modelInitializerBytes(out);
    }
    const s = writeSummary(r, prepared.raise);
    const rq = requantized?.weights ?? [];
    const requantNote = requantized && (rq.length || requantized.convsDequantized.length) ? requantizedNote(requantized, o.bits) : '';
    const warnings = [...r.warnings, ...(requantized?.left ?? []).map((l) => `${l.op} ${l.name} left as stored: ${l.reason}`)];
    const webGpu = gatherWebGpuWarning(out);
    if (webGpu) warnings.push(webGpu);
    const changed = r.layers.length > 0 || rq.length > 0 || !!requantized?.convsDequantized.length;
    const reason = changed ? '' : nothingReason(`0 ${o.ops.join('/')} weights quantized`, skips, constantWeightNodes(out));
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed ? `HQQ ${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}, asymmetric) as ${o.format}: ${s.text}${requantNote ? `; ${requantNote}` : ''}` : reason,
        stats: { layers: r.layers.length, weights: weights.length, float16Weights: r.float16Weights, ...(requantized ? { requantized: rq.length } : {}), skipped: skips.size, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings,
        details: { ...(changed ? {} : { reason }), ...s.details, ...(accuracySet ? { accuracyLevel: o.accuracyLevel } : {}), ...(requantized ? { requantized: rq, int8Left: requantized.left, dynamicQuantizeRemoved: requantized.dynamicQuantizeRemoved, convsDequantized: requantized.convsDequantized } : {}), layers },
      },
    };
  },
});
