import { type Feeds, PassDataError, cloneModel, defineOptions, definePass, throwIfAborted } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { openWeightSwapSession } from './mixed_sensitivity.js';
import { prepareOpset, siteBlockSize, siteGranularity } from './rtn.js';
import { SkipLog } from './skips.js';
import { type QuantizedWeight, type WeightSite, blocksPerRow, canonical, dequantizeWeight, findModelWeightSites, fromCanonical, quantizeRtn } from './weights.js';
import { writeQuantizedWeights, writeSummary } from './write_weights.js';

/** Options of `quantize-mixed`. */
export const mixedOptions = defineOptions({
  lowBits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the layers that can take it' },
  highBits: { type: 'number', integer: true, min: 2, max: 8, default: 8, description: 'bits of the most sensitive layers' },
  targetRatio: { type: 'number', min: 0, max: 1, default: 0.2, description: 'size budget: quantized weight bytes (codes + scales) <= this fraction of their float32 bytes' },
  granularity: { type: 'string', enum: ['per-tensor', 'per-channel', 'block'], default: 'block', description: 'scale granularity' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 128, description: 'block size for granularity "block"' },
  maxBatches: { type: 'number', integer: true, min: 1, default: 4, description: 'calibration batches used to measure sensitivity' },
  measureHigh: { type: 'boolean', default: false, description: 'also run the model with each layer at highBits (twice the forwards); by default that error is measured only when highBits is within 2 bits of lowBits, else estimated from the weight error ratio' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv'], description: 'op types whose weights are quantized' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
});

/** Stored bytes of a quantized weight: packed codes plus one float32 scale per group. */
function storedBytes(q: QuantizedWeight): number {
  const groups = q.granularity === 'per-tensor' ? 1 : q.granularity === 'per-channel' ? q.rows : q.rows * blocksPerRow(q);
  return Math.ceil((q.rows * q.cols * (q.bits <= 4 ? 4 : 8)) / 8) + groups * 4 + (q.symmetric ? 0 : groups);
}

/** ‖Ŵ_high − W‖² / ‖Ŵ_low − W‖²: how much smaller the high-bit weight error is. */
function weightErrorRatio(site: WeightSite, high: QuantizedWeight, low: QuantizedWeight): number {
  // all three in the canonical [rows, cols] layout the quantizer works in
  const w = canonical(site, site.tensor.dataSync() as Float32Array);
  const h = dequantizeWeight(high);
  const l = dequantizeWeight(low);
  let eh = 0;
  let el = 0;
  for (let i = 0; i < w.length; i++) {
    eh += (h[i]! - w[i]!) ** 2;
    el += (l[i]! - w[i]!) ** 2;
  }
  return el > 0 ? eh / el : 0;
}

/**
 * `quantize-mixed`: mixed precision by sensitivity. Each layer is quantized alone to `lowBits`
 * and the model's output error (MSE against float on calibration batches) measured; then, from
 * all-`lowBits`, the layers whose upgrade to `highBits` removes the most error per extra byte are
 * upgraded while the weights stay within `targetRatio` of their float32 size. The `highBits` error
 * is measured too when the two are close (or `measureHigh`), else scaled from the weight errors. Emitted as QDQ.
 * The forwards run in one session of the calibration runtime (onnxruntime when injected), the
 * quantized-dequantized weight fed in place of its initializer.
 */
export const quantizeMixedPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-mixed',
  cli: { group: 'quantize', command: 'mixed' },
  description: 'Mixed-precision weight quantization: per-layer sensitivity on calibration data decides which layers keep more bits under a size budget.',
  optionsSchema: mixedOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (!ctx.calibration) throw new PassDataError('quantize-mixed', 'quantize-mixed: needs calibration data (ctx.calibration / --data) to measure per-layer sensitivity');
    const batches: Feeds[] = [];
    for await (const f of ctx.calibration) {
      batches.push(f);
      if (batches.length >= o.maxBatches) break;
    }
    if (!batches.length) throw new PassDataError('quantize-mixed', 'quantize-mixed: the calibration data is empty');
    const skips = new SkipLog();
    const sites = findModelWeightSites(model, o.ops, { names: o.excludeNodes }, { subgraphs: false, subgraphReason: 'inside a subgraph: sensitivity is measured on main-graph weights only', skips }).filter((s, i, all) => all.findIndex((t) => t.name === s.name) === i);
    const quant = (site: WeightSite, bits: number): QuantizedWeight =>
      quantizeRtn(canonical(site, site.tensor.dataSync() as Float32Array), site.rows, site.cols, { bits, symmetric: true, granularity: siteGranularity(site, o.granularity), blockSize: siteBlockSize(site, o.blockSize) });
    const measureHigh = o.measureHigh || o.highBits - o.lowBits < 3;
    const session = await openWeightSwapSession(model, sites.map((s) => s.name), { pass: 'quantize-mixed', activationRuntime: ctx.activationRuntime, runtime: ctx.calibrationRuntime, backend: ctx.backend, logger: ctx.logger });
    const layers = [];
    try {
      const ref: Float32Array[][] = [];
      const t0 = performance.now();
      for (const f of batches) ref.push(await session.outputs(f));
      // the scan is layers × batches forwards (twice that measuring highBits): say up front what it costs
      const each = (performance.now() - t0) / 1000 / batches.length;
      ctx.onProgress(0, `sensitivity of ${sites.length} layers: ${(measureHigh ? 2 : 1) * sites.length * batches.length} forwards (${session.runtime}) at ~${each < 1 ? each.toFixed(2) : each.toFixed(1)} s each`);
      // output MSE against float over every output of every batch
      const errorWith = async (site: WeightSite, q: QuantizedWeight): Promise<number> => {
        const w = tensor(fromCanonical(site, dequantizeWeight(q)), site.shape, 'float32', { backend: 'cpu' });
        let e = 0;
        let n = 0;
        try {
          for (const [b, f] of batches.entries()) {
            const out = await session.outputs(f, { [site.name]: w });
            out.forEach((v, k) => {
              const r = ref[b]![k]!;
              for (let i = 0; i < v.length; i++) e += (v[i]! - r[i]!) ** 2;
              n += v.length;
            });
          }
        } finally {
          w.dispose();
        }
        return e / n;
      };
      for (const [i, site] of sites.entries()) {
        throwIfAborted(ctx.signal, 'quantize-mixed');
        const low = quant(site, o.lowBits);
        const high = quant(site, o.highBits);
        const errLow = await errorWith(site, low);
        // for small weight perturbations the output error scales with the weight error's energy,
        // so with ≥ 3 more bits (error ≥ 64x smaller) the ratio stands in for a second forward
        const errHigh = measureHigh ? await errorWith(site, high) : errLow * weightErrorRatio(site, high, low);
        layers.push({ site, low, high, errLow, errHigh, bits: o.lowBits });
        ctx.onProgress((0.9 * (i + 1)) / sites.length, `sensitivity ${i + 1}/${sites.length} (${session.runtime}): ${site.name}`);
      }
    } finally {
      await session.close();
    }
    const floatBytes = sites.reduce((s, x) => s + x.rows * x.cols * 4, 0);
    const budget = o.targetRatio * floatBytes;
    let used = layers.reduce((s, l) => s + storedBytes(l.low), 0);
    const warnings: string[] = [];
    if (used > budget) warnings.push(`even all-${o.lowBits}-bit weights (${used} bytes) exceed the budget of ${Math.floor(budget)} bytes`);
    // greedy by error removed per extra byte
    const order = [...layers].sort((a, b) => (b.errLow - b.errHigh) / Math.max(1, storedBytes(b.high) - storedBytes(b.low)) - (a.errLow - a.errHigh) / Math.max(1, storedBytes(a.high) - storedBytes(a.low)));
    for (const l of order) {
      const extra = storedBytes(l.high) - storedBytes(l.low);
      if (l.errLow > l.errHigh && used + extra <= budget) {
        l.bits = o.highBits;
        used += extra;
      }
    }
    const prepared = prepareOpset(cloneModel(model), Math.min(o.lowBits, o.highBits), o.granularity, 'qdq');
    const out = prepared.model;
    const outSites = findModelWeightSites(out, o.ops, { names: o.excludeNodes }, { subgraphs: false });
    const entries = layers.flatMap((l) => outSites.filter((s) => s.name === l.site.name && s.graph === out.graph).map((site) => ({ site, q: l.bits === o.highBits ? l.high : l.low })));
    const r = await writeQuantizedWeights(out, entries, 'qdq', skips);
    const s = writeSummary(r, prepared.raise);
    const changed = r.layers.length > 0;
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed
          ? `mixed precision: ${layers.filter((l) => l.bits === o.highBits).length} of ${layers.length} layers at ${o.highBits}-bit, the rest ${o.lowBits}-bit; weights ${used} bytes (budget ${Math.floor(budget)}, ${(used / floatBytes).toFixed(3)}x float32); ${s.text}`
          : `0 ${o.ops.join('/')} weights quantized: ${s.text}`,
        stats: { layers: layers.length, highBitLayers: layers.filter((l) => l.bits === o.highBits).length, weightBytes: used, budgetBytes: Math.floor(budget), bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter },
        warnings: [...warnings, ...r.warnings],
        details: { ...s.details, outputMseHighEstimated: !measureHigh, layers: layers.map((l) => ({ weight: l.site.name, bits: l.bits, outputMseLow: l.errLow, outputMseHigh: l.errHigh, bytesLow: storedBytes(l.low), bytesHigh: storedBytes(l.high) })) },
      },
    };
  },
});
