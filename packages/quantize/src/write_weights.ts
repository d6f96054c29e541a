/**
 * Writes a set of quantized weights into a model in one of the weight-only formats, with the
 * opset/domain bookkeeping and a size report. Used by RTN, GPTQ and mixed precision.
 */
import { type Model, NameGenerator, eliminateDeadCode } from '@whittle/graph';
import { emitDequantizeLinear, emitMatMulNBits, ensureDomain, ensureOpset, matMulNBitsEligible } from './emit.js';
import { type QuantizedWeight, type WeightSite, initializerBytes } from './weights.js';

/** Output format of weight-only quantization. */
export type WeightFormat = 'qdq' | 'matmulnbits';

/** Per-layer line of a weight-quantization report. */
export interface LayerLine {
  node: string;
  op: string;
  weight: string;
  shape: number[];
  bits: number;
  granularity: string;
  emitted: 'DequantizeLinear' | 'MatMulNBits';
  container: string;
  [extra: string]: unknown;
}

/** Result of {@link writeQuantizedWeights}. */
export interface WriteResult {
  layers: LayerLine[];
  warnings: string[];
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Replace each site's weight by its quantized form. `format: 'matmulnbits'` uses MatMulNBits
 * where eligible (MatMul / plain Gemm, block sizes 16..256 powers of two) and DequantizeLinear
 * elsewhere. Grids below 8 bits need 4-bit containers (opset 21, bumped when legal; otherwise
 * int8 containers with a warning). 3- and 2-bit grids are stored in 4-bit containers.
 * Modifies `model` in place (give it a clone).
 */
export function writeQuantizedWeights(model: Model, entries: readonly { site: WeightSite; q: QuantizedWeight }[], format: WeightFormat): WriteResult {
  const g = model.graph;
  const bytesBefore = initializerBytes(g);
  const names = new NameGenerator(g);
  const warnings: string[] = [];
  const layers: LayerLine[] = [];
  const needs21 = entries.some(({ site, q }) => (q.bits < 8 || q.granularity === 'block') && !(format === 'matmulnbits' && matMulNBitsEligible(site, q)));
  const have21 = needs21 ? ensureOpset(model, 21) : true;
  if (!have21) warnings.push('the model\'s opset cannot legally be raised to 21: sub-8-bit weights stored in 8-bit containers and block-wise scales replaced by per-channel');
  const done = new Map<string, string>();
  for (const { site, q } of entries) {
    const line = { node: site.node.name, op: site.node.opType, weight: site.name, shape: site.shape, bits: q.bits, granularity: q.granularity };
    const shared = done.get(site.name);
    if (shared !== undefined) {
      site.node.inputs[site.input] = shared;
      continue;
    }
    if (format === 'matmulnbits' && matMulNBitsEligible(site, q)) {
      const container = q.bits <= 4 ? 4 : 8;
      ensureDomain(model, 'com.microsoft', 1);
      emitMatMulNBits(g, site, q, names, container);
      layers.push({ ...line, emitted: 'MatMulNBits', container: `${container}-bit` });
      continue;
    }
    if (!have21 && q.granularity === 'block') {
      warnings.push(`${site.name}: block-wise scales need opset 21; skipped`);
      continue;
    }
    const dq = emitDequantizeLinear(g, site, q, names, have21);
    done.set(site.name, dq.outputs[0]!);
    layers.push({ ...line, emitted: 'DequantizeLinear', container: q.bits <= 4 && have21 ? (q.symmetric ? 'int4' : 'uint4') : q.symmetric ? 'int8' : 'uint8' });
  }
  eliminateDeadCode(g);
  return { layers, warnings, bytesBefore, bytesAfter: initializerBytes(g) };
}
