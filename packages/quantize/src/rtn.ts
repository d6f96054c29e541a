import { cloneModel, defineOptions, definePass, throwIfAborted } from '@whittle/graph';
import { canonical, findWeightSites, quantizeRtn, dequantizeWeight, type Granularity, type QuantizedWeight, type WeightSite } from './weights.js';
import { writeQuantizedWeights, type WeightFormat } from './write_weights.js';
import { mse } from './quant_math.js';

/** Options of `quantize-weights`. */
export const rtnOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid: 8, 4, 3 or 2 (3/2-bit grids are stored in 4-bit containers)' },
  symmetric: { type: 'boolean', default: true, description: 'symmetric grid (zero point 0) instead of asymmetric min/max' },
  granularity: { type: 'string', enum: ['per-tensor', 'per-channel', 'block'], default: 'block', description: 'one scale per tensor, per output channel, or per block of the reduction dimension' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 32, description: 'block size for granularity "block" (a power of two for MatMulNBits)' },
  format: { type: 'string', enum: ['qdq', 'matmulnbits'], default: 'qdq', description: 'DequantizeLinear feeding the consumer, or com.microsoft MatMulNBits for MatMul/Gemm weights (others stay QDQ)' },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv', 'Gather'], description: 'op types whose weights are quantized (Gather: embedding tables)' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names to leave in float' },
  excludeOps: { type: 'string[]', default: [], description: 'op types to leave in float' },
});

/** Effective granularity of a site (Conv and other non-2-D weights have no block axis). */
export function siteGranularity(site: WeightSite, g: Granularity): Granularity {
  return g === 'block' && site.blockAxis < 0 ? 'per-channel' : g;
}

/**
 * `quantize-weights`: weight-only round-to-nearest quantization (8/4/3/2 bits, symmetric or
 * asymmetric, per-tensor/per-channel/block-wise) emitted as DequantizeLinear or MatMulNBits.
 */
export const quantizeWeightsPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-weights',
  description: 'Weight-only round-to-nearest quantization (8/4/3/2-bit) as DequantizeLinear or com.microsoft MatMulNBits.',
  optionsSchema: rtnOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const out = cloneModel(model);
    const sites = findWeightSites(out.graph, o.ops, { names: o.excludeNodes, ops: o.excludeOps });
    const entries: { site: WeightSite; q: QuantizedWeight }[] = [];
    const errors: Record<string, number> = {};
    for (const [i, site] of sites.entries()) {
      throwIfAborted(ctx.signal, 'quantize-weights');
      const w = canonical(site, (await site.tensor.data()) as Float32Array);
      const q = quantizeRtn(w, site.rows, site.cols, { bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(site, o.granularity), blockSize: o.blockSize });
      errors[site.name] = mse(w, dequantizeWeight(q));
      entries.push({ site, q });
      ctx.onProgress((i + 1) / sites.length, site.name);
    }
    const r = writeQuantizedWeights(out, entries, o.format as WeightFormat);
    const warnings = [...r.warnings];
    if (o.bits === 3 || o.bits === 2) warnings.push(`${o.bits}-bit grid stored in 4-bit containers (file size as 4-bit)`);
    return {
      model: out,
      report: {
        changed: entries.length > 0,
        summary: `quantized ${r.layers.length} weights to ${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}, ${o.symmetric ? 'symmetric' : 'asymmetric'}) as ${o.format}; initializers ${r.bytesBefore} -> ${r.bytesAfter} bytes`,
        stats: { layers: r.layers.length, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings,
        details: { layers: r.layers.map((l) => ({ ...l, weightMse: errors[l.weight] })) },
      },
    };
  },
});
