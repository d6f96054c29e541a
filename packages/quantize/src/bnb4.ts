/**
 * `quantize-bnb4`: 4-bit NormalFloat (NF4, QLoRA's data type) or FP4 weights as com.microsoft
 * MatMulBnb4 — the `bnb4` variant Transformers.js loads (`model_bnb4.onnx`), run by onnxruntime's
 * CPU and wasm kernels (its WebGPU provider has no MatMulBnb4: q4 is the WebGPU form). Each block of
 * `blockSize` consecutive values of the transposed weight [N, K] (flattened) stores its absolute
 * maximum; each value the nearest of the data type's 16 levels times that maximum.
 */
import { BNB4_QUANT_TYPE, BNB4_TABLES, type Graph, type Model, NameGenerator, graphScopes, PassOptionsError, cloneModel, createNode, defineOptions, definePass, eliminateDeadCode, throwIfAborted } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, ensureDomain, matMulNBitsEligible } from './emit.js';
import { uniqueWeights } from './rtn.js';
import { SkipLog } from './skips.js';
import { type WeightSite, canonical, findModelWeightSites, modelInitializerBytes, siteFloatType, siteValues } from './weights.js';

/** Options of `quantize-bnb4`. */
export const bnb4Options = defineOptions({
  quantType: { type: 'string', enum: ['nf4', 'fp4'], default: 'nf4', description: 'the 4-bit data type: NormalFloat (nf4, for normally distributed weights) or FP4 (e2m1)' },
  blockSize: { type: 'number', integer: true, min: 16, max: 4096, default: 64, description: 'weights per absmax scale (a power of two)' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names left in float' },
});

/**
 * Nearest-level lookup for a 16-level table: the distinct levels in ascending order (each with the
 * lowest code holding it: FP4's 0 and -0 are one level) and the midpoints between neighbours, so a
 * value's code takes a 4-step binary search instead of 16 distance comparisons per weight.
 */
function levelSearch(table: Float32Array): (v: number) => number {
  const levels: { value: number; code: number }[] = [];
  for (let c = 0; c < table.length; c++) if (!levels.some((l) => l.value === table[c])) levels.push({ value: table[c]!, code: c });
  levels.sort((a, b) => a.value - b.value);
  const mids = levels.slice(1).map((l, i) => (levels[i]!.value + l.value) / 2);
  const codes = levels.map((l) => l.code);
  return (v) => {
    // the first midpoint above v, by bisection: its index is the level's
    let lo = 0;
    let hi = mids.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (mids[m]! < v) lo = m + 1;
      else hi = m;
    }
    return codes[lo]!;
  };
}

/**
 * bnb4 codes of `w` (the transposed weight [N, K], row-major): two codes a byte, the first in the
 * high nibble, and one absmax per block of `blockSize` values (the last block may be short).
 */
export function quantizeBnb4(w: ArrayLike<number>, blockSize: number, table: Float32Array): { packed: Uint8Array; absmax: Float32Array } {
  const n = w.length;
  const blocks = Math.ceil(n / blockSize);
  const packed = new Uint8Array(Math.ceil(n / 2));
  const absmax = new Float32Array(blocks);
  const nearest = levelSearch(table);
  const zero = nearest(0);
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(n, (b + 1) * blockSize);
    let m = 0;
    for (let i = b * blockSize; i < end; i++) m = Math.max(m, Math.abs(w[i]!));
    absmax[b] = m;
    for (let i = b * blockSize; i < end; i++) {
      const code = m > 0 ? nearest(w[i]! / m) : zero;
      packed[i >> 1] = packed[i >> 1]! | (i & 1 ? code : code << 4);
    }
  }
  return { packed, absmax };
}

/** How many node inputs, in any graph of `model`, read a value named `name`. */
function readers(model: Model, name: string): number {
  let n = 0;
  for (const { graph } of graphScopes(model.graph)) for (const node of graph.nodes) for (const i of node.inputs) if (i === name) n++;
  return n;
}

/** Replace `site`'s MatMul (or plain Gemm: MatMulBnb4 + Add of C) by MatMulBnb4 reading `weights`. */
function emitBnb4(site: WeightSite, weights: [string, string], a: { K: number; N: number; blockSize: number; quantType: number }, names: NameGenerator): void {
  const g: Graph = site.nodeGraph;
  const node = site.node;
  const hasBias = node.opType === 'Gemm' && !!node.inputs[2];
  const out = hasBias ? names.value(`${node.outputs[0]}_matmul`) : node.outputs[0]!;
  const attrs = { K: { type: 'int' as const, value: a.K }, N: { type: 'int' as const, value: a.N }, block_size: { type: 'int' as const, value: a.blockSize }, quant_type: { type: 'int' as const, value: a.quantType } };
  const mm = createNode('MatMulBnb4', [node.inputs[0]!, ...weights], [out], attrs, { name: names.node(`${node.name || site.name}_MatMulBnb4`), domain: 'com.microsoft' });
  const replacement = [mm];
  if (hasBias) replacement.push(createNode('Add', [out, node.inputs[2]!], [node.outputs[0]!], {}, { name: names.node(`${node.name || site.name}_bias`) }));
  g.nodes.splice(g.nodes.indexOf(node), 1, ...replacement);
}

/**
 * `quantize-bnb4`: MatMul B and plain Gemm weights (float32 or float16) to bnb4 codes read by
 * MatMulBnb4; other weights (Conv, Gather, a transposed-A Gemm) are left as they are and listed.
 */
export const quantizeBnb4Pass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-bnb4',
  cli: { group: 'quantize', command: 'bnb4' },
  description: "4-bit NormalFloat (NF4) or FP4 block-wise MatMul/Gemm weights as com.microsoft MatMulBnb4 (Transformers.js' bnb4 dtype; onnxruntime CPU and wasm).",
  optionsSchema: bnb4Options,
  async run(model, ctx) {
    const o = ctx.options;
    if ((o.blockSize & (o.blockSize - 1)) !== 0) throw new PassOptionsError('quantize-bnb4', `pass 'quantize-bnb4': option 'blockSize' must be a power of two, got ${o.blockSize}`);
    const table = BNB4_TABLES[o.quantType as 'nf4' | 'fp4'];
    const quantType = BNB4_QUANT_TYPE[o.quantType as 'nf4' | 'fp4'];
    const out = cloneModel(model);
    const bytesBefore = modelInitializerBytes(out);
    const skips = new SkipLog();
    const sites = findModelWeightSites(out, ['MatMul', 'Gemm'], { names: o.excludeNodes }, { skips, floatTypes: ['float32', 'float16'] });
    const layers: { weight: string; node: string; K: number; N: number }[] = [];
    const touched = new Set<Graph>();
    const groups = uniqueWeights(sites);
    for (const [i, group] of groups.entries()) {
      throwIfAborted(ctx.signal, 'quantize-bnb4');
      const usable = group.filter((s) => s.shape.length === 2 && matMulNBitsEligible(s, { granularity: 'block', blockSize: o.blockSize }));
      for (const s of group) if (!usable.includes(s)) skips.add(s.node.opType, s.name, s.shape.length !== 2 ? 'not a 2-D weight' : 'not B of a MatMul or a plain Gemm (transA 0, alpha and beta 1)');
      // a weight other nodes also read would stay float beside its bnb4 copy: the file would grow
      if (usable.length && readers(out, group[0]!.name) > usable.length) {
        for (const s of usable) skips.add(s.node.opType, s.name, 'also read by another node (it would stay float beside a bnb4 copy)');
        continue;
      }
      if (!usable.length) continue;
      const site = usable[0]!;
      const { packed, absmax } = quantizeBnb4(canonical(site, await siteValues(site)), o.blockSize, table);
      const names = new NameGenerator(site.graph);
      const weights: [string, string] = [names.value(`${site.name}_bnb4`), names.value(`${site.name}_absmax`)];
      site.graph.initializers.set(weights[0], tensor(packed, [packed.length], 'uint8', { backend: 'cpu' }));
      // absmax has A's type (MatMulBnb4's T1): float16 for a float16 model
      site.graph.initializers.set(weights[1], cpuTensor(absmax, [absmax.length], siteFloatType(site)));
      for (const s of usable) {
        emitBnb4(s, weights, { K: site.cols, N: site.rows, blockSize: o.blockSize, quantType }, new NameGenerator(s.nodeGraph));
        touched.add(s.nodeGraph).add(s.graph);
        layers.push({ weight: s.name, node: s.node.name, K: site.cols, N: site.rows });
      }
      ctx.onProgress((i + 1) / groups.length, site.name);
    }
    for (const g of touched) eliminateDeadCode(g);
    if (layers.length) ensureDomain(out, 'com.microsoft', 1);
    const bytesAfter = modelInitializerBytes(out);
    const skipped = skips.items.length ? `; ${skips.summary()}` : '';
    return {
      model: layers.length ? out : cloneModel(model),
      report: {
        changed: layers.length > 0,
        summary: layers.length
          ? `${layers.length} MatMul/Gemm weight(s) to ${o.quantType} block ${o.blockSize} (MatMulBnb4): initializers ${bytesBefore} -> ${bytesAfter} bytes${skipped}`
          : `0 MatMul/Gemm weights quantized${skipped}`,
        stats: { layers: layers.length, bytesBefore, bytesAfter },
        warnings: [...skips.warnings(), ...(layers.length ? ["MatMulBnb4 runs in onnxruntime's CPU and wasm providers, not its WebGPU provider (use q4 / MatMulNBits there)"] : [])],
        details: { layers, skipped: skips.items },
      },
    };
  },
});
