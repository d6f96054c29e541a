/**
 * AWQ-style activation-aware weight quantization (Lin et al., 2023): before round-to-nearest, the
 * input channels of each group of layers sharing an input are scaled by s_j = a_j^α (a_j: the
 * channel's RMS on calibration data, s normalised by √(max·min)), W → W·diag(s), and the inverse
 * scale is folded into what produces the input: the scale/shift of a normalization (LayerNormalization,
 * SimplifiedLayerNormalization, RMSNormalization, Skip(Simplified)LayerNormalization) read only
 * by the group, else a Mul node in front of the group. α is grid-searched per group to minimise
 * the layers' output error ‖(W − Q(W·diag(s))·diag(s)⁻¹)·Xᵀ‖² on the calibration Gram matrix;
 * α = 0 is plain RTN, so the chosen α is never worse on the calibration data.
 */
import { type Graph, CalibrationDataError, NameGenerator, buildUseIndex, cloneModel, createNode, defineOptions, definePass, throwIfAborted } from '@whittle/graph';
import { ArgumentError, tensor } from '@whittle/tensor';
import { setMatMulNBitsAccuracyLevel } from './accuracy_level.js';
import { type Gram, collectGram, outputMse } from './gptq.js';
import { prepareOpset, siteBlockSize, siteGranularity } from './rtn.js';
import { SkipLog, nothingReason } from './skips.js';
import { type QuantizedWeight, type WeightSite, canonical, constantWeightNodes, dequantizeWeight, findModelWeightSites, fromCanonical, quantizeRtn } from './weights.js';
import { type WeightFormat, writeQuantizedWeights, writeSummary } from './write_weights.js';

/** Options of `quantize-awq`. */
export const awqOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid' },
  symmetric: { type: 'boolean', default: false, description: 'symmetric grid (AWQ uses asymmetric groups)' },
  granularity: { type: 'string', enum: ['per-channel', 'block'], default: 'block', description: 'per-output-channel scales or blocks of blockSize' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 128, description: 'group size along the input dimension' },
  format: { type: 'string', enum: ['qdq', 'matmulnbits'], default: 'matmulnbits', description: 'output format (as quantize-weights)' },
  accuracyLevel: { type: 'number', integer: true, min: 0, max: 4, default: 0, description: 'MatMulNBits accuracy_level (as quantize-weights)' },
  grid: { type: 'number', integer: true, min: 1, max: 100, default: 20, description: 'α values tried in [0, 1] (AWQ: 20)' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm'], description: 'op types whose weights are quantized' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
  maxBatches: { type: 'number', integer: true, min: 1, description: 'use at most this many calibration batches' },
});

/** Scales s_j = rms_j^α normalised by √(max·min); all ones for α = 0 or a silent input. */
export function awqScales(rms: Float64Array, alpha: number): Float64Array {
  const s = Float64Array.from(rms, (r) => Math.max(r, 1e-8) ** alpha);
  let lo = Infinity;
  let hi = 0;
  for (const v of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const norm = Math.sqrt(lo * hi);
  for (let j = 0; j < s.length; j++) s[j] = s[j]! / norm;
  return s;
}

/** W·diag(s) for a canonical [rows, cols] weight. */
function scaleColumns(w: Float64Array, rows: number, cols: number, s: Float64Array): Float64Array {
  const out = new Float64Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = w[r * cols + c]! * s[c]!;
  return out;
}

/** Q(W·diag(s)) and its effective weight Q(W·diag(s))·diag(s)⁻¹. */
function quantizeScaled(w: Float64Array, site: WeightSite, s: Float64Array, spec: Parameters<typeof quantizeRtn>[3]): { q: QuantizedWeight; effective: Float64Array } {
  const q = quantizeRtn(scaleColumns(w, site.rows, site.cols, s), site.rows, site.cols, spec);
  const d = dequantizeWeight(q);
  for (let r = 0; r < site.rows; r++) for (let c = 0; c < site.cols; c++) d[r * site.cols + c] = d[r * site.cols + c]! / s[c]!;
  return { q, effective: d };
}

/**
 * Normalizations whose first output is scaled per channel after normalizing, by op (domain-qualified
 * for com.microsoft): the input slots of that scale and of a shift added after it. 1/s folds into
 * them; a bias added before normalizing (SkipLayerNormalization's input 4) and the other outputs
 * (statistics, the skip sum) do not depend on them.
 */
const NORM_SCALE_SLOTS: Record<string, readonly number[]> = {
  LayerNormalization: [1, 2],
  SimplifiedLayerNormalization: [1],
  RMSNormalization: [1],
  'com.microsoft:SkipLayerNormalization': [2, 3],
  'com.microsoft:SkipSimplifiedLayerNormalization': [2],
};

/** Fold 1/s into the input `x` of the group: a normalization's scale (and shift), else a Mul node. Returns how. */
function foldInverse(g: Graph, x: string, group: WeightSite[], s: Float64Array, names: NameGenerator): string {
  const uses = buildUseIndex(g);
  const producer = uses.producers.get(x)?.node;
  const readers = new Set((uses.consumers.get(x) ?? []).map((u) => u.node));
  const onlyGroup = [...readers].every((n) => group.some((site) => site.node === n)) && !uses.graphOutputs.has(x);
  const inv = Float32Array.from(s, (v) => 1 / v);
  const op = producer ? (producer.domain && producer.domain !== 'ai.onnx' ? `${producer.domain}:${producer.opType}` : producer.opType) : '';
  const slots = NORM_SCALE_SLOTS[op];
  const scale = slots && producer!.inputs[slots[0]!];
  const scaleT = scale ? g.initializers.get(scale) : undefined;
  if (producer && onlyGroup && slots && producer.outputs[0] === x && scaleT?.dtype === 'float32' && scaleT.size === s.length) {
    for (const k of slots) {
      const name = producer.inputs[k];
      const t = name ? g.initializers.get(name) : undefined;
      if (!name || !t || t.dtype !== 'float32' || t.size !== s.length) continue;
      const v = t.dataSync() as Float32Array;
      const fresh = names.value(`${name}_awq`);
      g.initializers.set(fresh, tensor(Float32Array.from(v, (a, j) => a * inv[j]!), [...t.shape], 'float32', { backend: 'cpu' }));
      producer.inputs[k] = fresh;
    }
    return `${producer.opType} ${producer.name || '(unnamed)'}`;
  }
  const scaleName = names.value(`${x}_awq_inv_scale`);
  const scaled = names.value(`${x}_awq`);
  g.initializers.set(scaleName, tensor(inv, [s.length], 'float32', { backend: 'cpu' }));
  const mul = createNode('Mul', [x, scaleName], [scaled], {}, { name: names.node(`${x}_awq_Mul`) });
  const first = Math.min(...group.map((site) => g.nodes.indexOf(site.node)));
  g.nodes.splice(first, 0, mul);
  for (const site of group) site.node.inputs[0] = scaled;
  return 'Mul';
}

/**
 * `quantize-awq`: AWQ-style activation-aware scaling (per-group α grid search on calibration
 * activations) + round-to-nearest, as MatMulNBits or DequantizeLinear. Weights shared by several
 * nodes, and groups whose input is also read by other nodes through a LayerNorm, are handled
 * conservatively (shared weights: plain RTN).
 */
export const quantizeAwqPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-awq',
  cli: { group: 'quantize', command: 'awq' },
  description: 'AWQ-style activation-aware weight quantization: per-input-channel scales searched on calibration data, folded into the preceding normalization or a Mul, then RTN.',
  optionsSchema: awqOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (!ctx.calibration) throw new CalibrationDataError('quantize-awq', 'quantize-awq: needs calibration data (ctx.calibration; --data on the command line): none was given');
    const prepared = prepareOpset(cloneModel(model), o.bits, o.granularity, o.format);
    const out = prepared.model;
    const skips = new SkipLog();
    const sites = findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { subgraphs: false, subgraphReason: 'inside a subgraph: AWQ collects layer inputs in the main graph only', skips });
    const gram = await collectGram(model, sites, ctx.calibration, { pass: 'quantize-awq', backend: ctx.backend, signal: ctx.signal, activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}) });
    const byInput = new Map<string, WeightSite[]>();
    const counts = new Map<string, number>();
    for (const s of sites) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    for (const s of sites) {
      const l = byInput.get(s.node.inputs[0]!);
      if (l) l.push(s);
      else byInput.set(s.node.inputs[0]!, [s]);
    }
    const names = new NameGenerator(out.graph);
    const entries: { site: WeightSite; q: QuantizedWeight }[] = [];
    const groups: Record<string, unknown>[] = [];
    let k = 0;
    for (const [x, group] of byInput) {
      throwIfAborted(ctx.signal, 'quantize-awq');
      const shared = group.some((s) => counts.get(s.name)! > 1 || s.graph !== out.graph);
      const g0: Gram = gram.get(group[0]!)!;
      const K = group[0]!.cols;
      const rms = Float64Array.from({ length: K }, (_, j) => Math.sqrt(g0.xtx[j * K + j]! / Math.max(1, g0.n)));
      const ws = await Promise.all(group.map(async (s) => canonical(s, (await s.tensor.data()) as Float32Array)));
      const specs = group.map((s) => ({ bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(s, o.granularity), blockSize: siteBlockSize(s, o.blockSize) }));
      const errorAt = (alpha: number): number => {
        const sc = awqScales(rms, alpha);
        return group.reduce((e, s, i) => e + outputMse(ws[i]!, quantizeScaled(ws[i]!, s, sc, specs[i]!).effective, s.rows, s.cols, gram.get(s)!.xtx, g0.n), 0);
      };
      const rtnError = errorAt(0);
      let best = { alpha: 0, error: rtnError };
      if (!shared) {
        for (let i = 1; i <= o.grid; i++) {
          const alpha = i / o.grid;
          const e = errorAt(alpha);
          if (e < best.error) best = { alpha, error: e };
        }
      }
      const sc = awqScales(rms, best.alpha);
      let folded = 'none (α = 0)';
      if (best.alpha > 0) folded = foldInverse(out.graph, x, group, sc, names);
      group.forEach((s, i) => {
        if (best.alpha === 0) return void entries.push({ site: s, q: quantizeRtn(ws[i]!, s.rows, s.cols, specs[i]!) });
        // the writer sees the scaled float weight (its size check and any int8 fallback read it)
        const scaled = tensor(fromCanonical(s, scaleColumns(ws[i]!, s.rows, s.cols, sc)), s.shape, 'float32', { backend: 'cpu' });
        entries.push({ site: { ...s, tensor: scaled }, q: quantizeScaled(ws[i]!, s, sc, specs[i]!).q });
      });
      groups.push({ input: x, layers: group.map((s) => s.node.name), alpha: best.alpha, foldedInto: folded, outputMse: best.error, rtnOutputMse: rtnError, ...(shared ? { note: 'weight shared with other readers: plain RTN' } : {}) });
      ctx.onProgress(++k / byInput.size, x);
    }
    const r = await writeQuantizedWeights(out, entries, o.format as WeightFormat, skips);
    const accuracySet = o.accuracyLevel > 0 ? setMatMulNBitsAccuracyLevel(out, o.accuracyLevel) : 0;
    const s = writeSummary(r, prepared.raise);
    const changed = r.layers.length > 0;
    const reason = changed ? '' : nothingReason(`0 ${o.ops.join('/')} weights quantized`, skips, constantWeightNodes(out));
    const muls = groups.filter((g) => g.foldedInto === 'Mul').length;
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed ? `AWQ ${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}) as ${o.format}: ${groups.length} input groups, scales folded into ${groups.length - muls - groups.filter((g) => g.alpha === 0).length} normalization(s) and ${muls} Mul node(s); ${s.text}` : reason,
        stats: { layers: r.layers.length, groups: groups.length, mulNodes: muls, skipped: skips.size, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings: r.warnings,
        details: { ...(changed ? {} : { reason }), ...s.details, ...(accuracySet ? { accuracyLevel: o.accuracyLevel } : {}), groups },
      },
    };
  },
});

