import { type Model, NameGenerator, PassOptionsError, cloneModel, defineOptions, definePass, opsetVersion, scopedName, throwIfAborted } from '@whittle/graph';
import { constantWeightNodes, findModelWeightSites, modelInitializerBytes, siteValues, tensorBytes, type Granularity, type QuantizedWeight, type RtnSpec, type WeightFloatType, type WeightSite } from './weights.js';
import { writeQuantizedWeights, writeSummary, type WeightFormat } from './write_weights.js';
import { quantizeSiteRtn } from './rtn_nbits.js';
import { raiseOpset } from './opset_plan.js';
import { SkipLog, nothingReason } from './skips.js';
import { setMatMulNBitsAccuracyLevel } from './accuracy_level.js';
import { ensureDomain } from './emit.js';
import { type TiedHeadMode, emitTiedTable, findTiedTable, sharedBlocker } from './tied_head.js';
import { type RequantizeResult, requantizableLayers, requantizeInt8Layers } from './requantize_int8.js';
import { gatherWebGpuWarning } from './gather_webgpu.js';

/** Options of `quantize-weights`. */
export const rtnOptions = defineOptions({
  bits: { type: 'number', integer: true, min: 2, max: 8, default: 4, description: 'bits of the integer grid, 2 to 8: MatMulNBits stores 2-bit codes, 3-bit grids and other 2-bit forms go in 4-bit containers, 5-7 bit grids in 8-bit ones (the same size as 8 bits)' },
  symmetric: { type: 'boolean', description: 'symmetric grid (zero point 0) instead of asymmetric min/max (default true; false with requantizeInt8, whose dequantized int8 weights an asymmetric grid fits better)' },
  granularity: { type: 'string', enum: ['per-tensor', 'per-channel', 'block'], default: 'block', description: 'one scale per tensor, per output channel, or per block of the reduction dimension' },
  blockSize: { type: 'number', integer: true, min: 16, max: 256, default: 128, description: 'block size for granularity "block" (a power of two for MatMulNBits; onnxruntime\'s MatMulNBits quantizer default is 128); a weight whose reduction dimension K is shorter uses the power of two >= K' },
  format: { type: 'string', enum: ['qdq', 'matmulnbits'], default: 'qdq', description: 'DequantizeLinear feeding the consumer, or com.microsoft MatMulNBits for MatMul/Gemm weights and GatherBlockQuantized for 4-bit block-wise tables read by Gathers only (others stay QDQ)' },
  accuracyLevel: { type: 'number', integer: true, min: 0, max: 4, default: 0, description: "MatMulNBits accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 activations (onnxruntime's fastest CPU path; --target ort-cpu sets it)" },
  ops: { type: 'string[]', default: ['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Gather'], description: 'op types whose weights are quantized (Gather: embedding tables; ConvTranspose: scales per input channel)' },
  int8ConvBelow: { type: 'number', integer: true, min: 0, max: 1024, default: 16, description: 'below 8 bits: Conv/ConvTranspose weights whose reduction length (input channels / group × kernel; 9 for a 3×3 depthwise conv) is below this stay int8 per channel, as tiny kernels lose too much on a 4-bit grid (0: none)' },
  excludeNodes: { type: 'string[]', default: [], description: 'node names to leave in float (with requantizeInt8: MatMulInteger / MatMul / Gather nodes left int8)' },
  excludeOps: { type: 'string[]', default: [], description: "op types to leave in float (with requantizeInt8: 'MatMulInteger', 'MatMul' for DequantizeLinear weights, 'Gather' for int8 token tables and their tied heads, 'ConvInteger' for dynamic-int8 convolutions, left int8)" },
  requantizeInt8: { type: 'boolean', default: false, description: "format matmulnbits: also re-quantize the weights the model already holds as int8 (dynamic-int8 MatMulInteger, DequantizeLinear MatMul weights, uint8 token tables behind DequantizeLinear, as Transformers.js' model_quantized.onnx ships them) to MatMulNBits / GatherBlockQuantized with float activations; dynamic-int8 convolutions (ConvInteger, per-tensor grid) become DequantizeLinear → Conv on float activations, their int8 weights kept (no ops onnxruntime-web's WebGPU provider lacks). Each weight is dequantized exactly and rounded again, so it carries both roundings: quantizing the float model is more accurate when you have it; the report gives each weight's error against its int8 values. An asymmetric grid fits the dequantized values better (Whisper tiny's decoder: logits cosine 0.93 instead of 0.59 on a teacher-forced sentence), and is the default here (symmetric true to change it)" },
  tiedHead: { type: 'string', enum: ['shared', 'int8', 'float'], default: 'shared', description: "format matmulnbits, an embedding table also read (through a Transpose) as the LM head: 'shared' one 4-bit copy read by GatherBlockQuantized and the head's MatMulNBits, 'int8' a 4-bit gather plus an 8-bit head, 'float' a 4-bit gather and the float32 head" },
});

/** Effective granularity of a site (Conv and other non-2-D weights have no block axis). */
export function siteGranularity(site: WeightSite, g: Granularity): Granularity {
  return g === 'block' && site.blockAxis < 0 ? 'per-channel' : g;
}

/**
 * Block size used for a site: `blockSize`, or for a reduction dimension shorter than it the
 * smallest power of two (>= 16) covering it, so a short weight is one block per row without the
 * padding a MatMulNBits blob of `blockSize` would carry.
 */
export function siteBlockSize(site: Pick<WeightSite, 'cols'>, blockSize: number): number {
  let p = 16;
  while (p < site.cols && p < blockSize) p *= 2;
  return Math.min(blockSize, p);
}

/** Element types the weight-only passes quantize: float16 weights keep float16 scales and activations. */
export const WEIGHT_ONLY_FLOAT_TYPES: readonly WeightFloatType[] = ['float32', 'float16'];

/**
 * Whether a float16 weight of `model` would be written as DequantizeLinear, which outputs float16
 * only from opset 19: every float16 weight in format 'qdq'; in format 'matmulnbits' those
 * MatMulNBits / GatherBlockQuantized do not take (Conv weights, non-block-wise scales, tables
 * above 4 bits).
 */
export function float16NeedsDequantize(model: Model, ops: readonly string[], exclude: { names?: readonly string[]; ops?: readonly string[] }, bits: number, granularity: string, format: string): boolean {
  const half = findModelWeightSites(model, ops, exclude, { floatTypes: WEIGHT_ONLY_FLOAT_TYPES }).filter((s) => s.tensor.dtype === 'float16');
  const packed = (s: WeightSite): boolean => s.node.opType === 'MatMul' || s.node.opType === 'Gemm' || (s.node.opType === 'Gather' && bits <= 4);
  return half.some((s) => format === 'qdq' || granularity !== 'block' || s.blockAxis < 0 || !packed(s));
}

/**
 * Raise the opset to what the weights' preferred form needs when nothing blocks the upgrade:
 * 21 for sub-8-bit containers or block-wise scales as DequantizeLinear, 13 for per-channel
 * scales, 10 for DequantizeLinear at all. With `float16` (a float16 weight will be a
 * DequantizeLinear, whose float16 scales need opset 19): at least 19, and 21 for a sub-8-bit grid
 * (4-bit containers come with the same upgrade), else 19 when only 21 is blocked. Returns the
 * model to use and what happened.
 */
export function prepareOpset(model: Model, bits: number, granularity: string, format: string, float16 = false): { model: Model; raise: { from: number; opset: number; upgraded: boolean; blockedBy: string } } {
  const from = opsetVersion(model) ?? 1;
  const base = format !== 'qdq' ? 10 : bits < 8 || granularity === 'block' ? 21 : granularity === 'per-channel' ? 13 : 10;
  const target = float16 ? Math.max(base, bits < 8 ? 21 : 19) : base;
  let r = raiseOpset(model, target);
  if (r.blockedBy && float16 && base < 19 && target > 19) {
    const r19 = raiseOpset(model, 19);
    if (!r19.blockedBy) r = r19;
  }
  return { model: r.model, raise: { from, opset: r.opset, upgraded: r.upgraded, blockedBy: r.blockedBy } };
}

/** Group sites by the weight they read (graph + name): each weight is quantized once. */
export function uniqueWeights(sites: readonly WeightSite[]): WeightSite[][] {
  const m = new Map<unknown, Map<string, WeightSite[]>>();
  for (const s of sites) {
    let byName = m.get(s.graph);
    if (!byName) m.set(s.graph, (byName = new Map()));
    const l = byName.get(s.name);
    if (l) l.push(s);
    else byName.set(s.name, [s]);
  }
  return [...m.values()].flatMap((x) => [...x.values()]);
}

/**
 * `quantize-weights`: weight-only round-to-nearest quantization (8/4/3/2 bits, symmetric or
 * asymmetric, per-tensor/per-channel/block-wise) emitted as DequantizeLinear or MatMulNBits, in
 * the main graph and every If/Loop/Scan subgraph, in a form the model's opset can hold.
 */
export const quantizeWeightsPass = definePass({
  specificationVersion: 'v1',
  name: 'quantize-weights',
  cli: { group: 'quantize', command: 'weights' },
  description: 'Weight-only round-to-nearest quantization (8/4/3/2-bit) as DequantizeLinear or com.microsoft MatMulNBits.',
  optionsSchema: rtnOptions,
  async run(model, ctx) {
    // re-quantized int8 weights keep more with an asymmetric grid (Whisper tiny's decoder: logits
    // cosine 0.93 against 0.59 symmetric), so that is their default
    const o = { ...ctx.options, symmetric: ctx.options.symmetric ?? !ctx.options.requantizeInt8 };
    if (o.requantizeInt8 && (o.format !== 'matmulnbits' || o.granularity !== 'block')) throw new PassOptionsError('quantize-weights', `pass 'quantize-weights': option 'requantizeInt8' writes MatMulNBits: it needs option 'format' = 'matmulnbits' and option 'granularity' = 'block' (got '${o.format}', '${o.granularity}')`);
    // MatMulNBits and GatherBlockQuantized take power-of-two blocks only (onnxruntime refuses others)
    if (o.format === 'matmulnbits' && o.granularity === 'block' && (o.blockSize & (o.blockSize - 1)) !== 0) throw new PassOptionsError('quantize-weights', `pass 'quantize-weights': option 'blockSize' must be a power of two (16, 32, 64, 128 or 256) for format 'matmulnbits', got ${o.blockSize}; format 'qdq' takes any block size`);
    const exclude = { names: o.excludeNodes, ops: o.excludeOps };
    const prepared = prepareOpset(cloneModel(model), o.bits, o.granularity, o.format, float16NeedsDequantize(model, o.ops, exclude, o.bits, o.granularity, o.format));
    const out = prepared.model;
    // int8 layers first: the float weights quantized below must not be taken for int8 ones
    const bytesIn = modelInitializerBytes(out);
    const requantized = o.requantizeInt8 ? await requantizeInt8Layers(out, { bits: o.bits, symmetric: o.symmetric, blockSize: o.blockSize }, new NameGenerator(out.graph), { signal: ctx.signal, onProgress: (f, m) => ctx.onProgress(f, m), exclude: { names: o.excludeNodes, ops: o.excludeOps } }) : undefined;
    const skips = new SkipLog();
    const sites = findModelWeightSites(out, o.ops, exclude, { skips, floatTypes: WEIGHT_ONLY_FLOAT_TYPES });
    const weights = uniqueWeights(sites);
    const entries: { site: WeightSite; q: QuantizedWeight }[] = [];
    const errors: Record<string, number> = {};
    const kept8: string[] = [];
    const kept8Wide: string[] = [];
    // block granularity asked, but Conv-like weights have no block axis: per output channel
    const perChannel: string[] = [];
    for (const [i, group] of weights.entries()) {
      throwIfAborted(ctx.signal, 'quantize-weights');
      const site = group[0]!;
      // re-quantizing an int8 model: its convolutions (int8 in the file, dequantized by the front
      // end) keep an 8-bit grid where the opset stores sub-8-bit codes in 8-bit containers anyway
      const wide = requantized !== undefined && o.bits < 8 && site.blockAxis < 0 && (opsetVersion(out) ?? 1) < 21;
      const small = o.bits < 8 && site.blockAxis < 0 && (site.cols < o.int8ConvBelow || wide);
      if (small) (wide ? kept8Wide : kept8).push(scopedName({ path: site.scope }, site.name));
      else if (o.granularity === 'block' && site.blockAxis < 0) perChannel.push(`${site.node.opType}`);
      const spec: RtnSpec = small
        ? { bits: 8, symmetric: true, granularity: 'per-channel', blockSize: 0 }
        : { bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(site, o.granularity), blockSize: siteBlockSize(site, o.blockSize) };
      // block-wise weights through the MatMulNBits kernel (float32, packed once), the rest as float64
      // float16 weights are decoded to float32: the same arithmetic, float16 scales written
      const { q, mse } = quantizeSiteRtn(site, await siteValues(site), spec, true);
      errors[site.name] = mse;
      for (const s of group) entries.push({ site: s, q });
      ctx.onProgress((i + 1) / weights.length, site.name);
    }
    // embedding tables tied with the LM head: written here, the rest by the generic writer
    const tied: Record<string, unknown>[] = [];
    const tiedWarnings: string[] = [];
    let tiedFloat16 = 0;
    const bytes0 = modelInitializerBytes(out);
    if (o.format === 'matmulnbits') {
      const names = new NameGenerator(out.graph);
      for (const group of weights) {
        const site = group[0]!;
        const t = findTiedTable(out.graph, site);
        if (!t) continue;
        const q = entries.find((e) => e.site === site)!.q;
        const mode = o.tiedHead as TiedHeadMode;
        const blocker = mode === 'shared' ? sharedBlocker(q) : q.granularity !== 'block' || q.bits > 4 ? `needs 4-bit block-wise codes for GatherBlockQuantized` : '';
        if (blocker) {
          tiedWarnings.push(`${site.name}: tied LM head left to the generic writer (${blocker})`);
          continue;
        }
        const head8 = mode === 'int8' ? quantizeSiteRtn(site, await siteValues(site), { bits: 8, symmetric: true, granularity: 'block', blockSize: q.blockSize }).q : undefined;
        const floatBytes = tensorBytes(site.tensor.dtype, site.tensor.size);
        const bytes = emitTiedTable(out.graph, t, group, q, mode, names, head8);
        ensureDomain(out, 'com.microsoft', 1);
        if (site.tensor.dtype === 'float16') tiedFloat16++;
        tied.push({ table: site.name, mode, gathers: t.gathers.map((n) => n.name), heads: t.heads.map((n) => n.name), bits: q.bits, blockSize: q.blockSize, symmetric: q.symmetric, bytesBefore: floatBytes, bytesAfter: bytes, ...(mode === 'shared' ? { storage: 'one uint8 [V, D/bs, bs/2] code tensor and one scale tensor read by GatherBlockQuantized and MatMulNBits' } : {}) });
        for (let i = entries.length - 1; i >= 0; i--) if (group.includes(entries[i]!.site)) entries.splice(i, 1);
      }
    }
    const r = await writeQuantizedWeights(out, entries, o.format as WeightFormat, skips);
    r.warnings.push(...tiedWarnings);
    r.float16Weights += tiedFloat16;
    r.bytesBefore = bytes0;
    if (requantized) {
      // the int8 tables the float pass skipped ('only float32 weights') were re-quantized above
      const done = new Set(requantized.weights.map((w) => w.weight.split(': ').pop()!));
      for (let i = skips.items.length - 1; i >= 0; i--) if (done.has(skips.items[i]!.name.split(': ').pop()!)) skips.items.splice(i, 1);
      r.bytesBefore = bytesIn;
      r.bytesAfter = modelInitializerBytes(out);
    }
    const accuracySet = o.accuracyLevel > 0 ? setMatMulNBitsAccuracyLevel(out, o.accuracyLevel) : 0;
    const s = writeSummary(r, prepared.raise);
    const warnings = [...r.warnings];
    const webGpu = gatherWebGpuWarning(out);
    if (webGpu) warnings.push(webGpu);
    if (o.format === 'qdq' && o.bits < 8 && r.layers.length) warnings.push(`${o.bits}-bit weights as DequantizeLinear: onnxruntime's CPU and WebGPU providers do not fuse these into the MatMul/Gemm/Conv (they dequantize on every run, several times slower than float32); --format matmulnbits runs MatMul/Gemm weights fused`);
    if (o.bits === 3) warnings.push('3-bit grid stored in 4-bit containers (file size as 4-bit)');
    // MatMulNBits stores 2-bit codes; DequantizeLinear and GatherBlockQuantized have no 2-bit type
    const wide2 = o.bits === 2 ? r.layers.filter((l) => /^u?int4$|4-bit/.test(l.container)).length + tied.length : 0;
    if (wide2) warnings.push(`${wide2} of the 2-bit weights stored in 4-bit containers (DequantizeLinear and GatherBlockQuantized have no 2-bit codes; MatMulNBits, --format matmulnbits, stores them)`);
    const written = new Set(r.layers.map((l) => l.weight));
    kept8.splice(0, kept8.length, ...kept8.filter((n) => written.has(n)));
    const keptNote = kept8.length ? `${kept8.length} small Conv weight${kept8.length > 1 ? 's' : ''} kept int8 per channel (reduction length < ${o.int8ConvBelow})` : '';
    if (keptNote) warnings.push(`${keptNote}: ${kept8.slice(0, 3).join(', ')}${kept8.length > 3 ? `, ... (${kept8.length - 3} more)` : ''}`);
    kept8Wide.splice(0, kept8Wide.length, ...kept8Wide.filter((n) => written.has(n)));
    if (kept8Wide.length) warnings.push(`${kept8Wide.length} Conv weight(s) kept 8-bit per channel: opset ${opsetVersion(out) ?? 1} stores sub-8-bit codes in 8-bit containers, so a ${o.bits}-bit grid would only round them again: ${kept8Wide.slice(0, 3).join(', ')}${kept8Wide.length > 3 ? `, ... (${kept8Wide.length - 3} more)` : ''}`);
    const requantNote = requantized?.weights.length || requantized?.convsDequantized.length ? requantizedNote(requantized, o.bits) : '';
    if (requantized?.weights.length) warnings.push(`${requantNote}; quantizing the float model is more accurate when you have it (details.requantized: each weight's error against its int8 values)${o.symmetric ? '; an asymmetric grid (--no-symmetric) fits dequantized int8 weights better for a few % more bytes' : ''}`);
    for (const l of requantized?.left ?? []) warnings.push(`${l.op} ${l.name} left as stored: ${l.reason}`);
    const byOp = [...new Set(perChannel)].map((op) => `${perChannel.filter((x) => x === op).length} ${op}`).join(', ');
    // one scale per output channel over a whole kernel is coarse at 4 bits and below: CNNs lose a lot
    if (perChannel.length && o.bits < 8) warnings.push(`${byOp} weight(s) on a ${o.bits}-bit grid with one scale per output channel (a convolution has no block axis): convolutional nets often lose much accuracy this way; --bits 8 for them (--exclude-ops Conv keeps them float) is the safer choice`);
    const perChannelNote = perChannel.length ? `; ${byOp} weight${perChannel.length > 1 ? 's' : ''} per output channel: no block axis` : '';
    const changed = r.layers.length > 0 || tied.length > 0 || !!requantized?.weights.length || !!requantized?.convsDequantized.length;
    const hint = o.requantizeInt8 ? '' : requantizeHint(model, o.format);
    const reason = changed ? '' : nothingReason(`0 ${o.ops.join('/')} weights quantized`, skips, constantWeightNodes(out)) + hint;
    return {
      model: changed ? out : cloneModel(model),
      report: {
        changed,
        summary: changed ? `${o.bits}-bit (${o.granularity}${o.granularity === 'block' ? ` ${o.blockSize}` : ''}, ${o.symmetric ? 'symmetric' : 'asymmetric'}${perChannelNote}) as ${o.format}: ${s.text}${requantNote ? `; ${requantNote}` : ''}${keptNote ? `; ${keptNote}` : ''}${tied.length ? `; ${tied.length} embedding table(s) tied with the LM head stored ${o.tiedHead === 'shared' ? 'once, read by GatherBlockQuantized and MatMulNBits' : `as a 4-bit gather + ${o.tiedHead} head`}` : ''}${hint}` : reason,
        stats: { layers: r.layers.length, weights: weights.length, float16Weights: r.float16Weights, ...(requantized ? { requantized: requantized.weights.length } : {}), skipped: skips.size, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, ratio: r.bytesAfter / Math.max(1, r.bytesBefore) },
        warnings,
        details: { ...(changed ? {} : { reason }), ...s.details, ...(accuracySet ? { accuracyLevel: o.accuracyLevel, accuracyLevelNodes: accuracySet } : {}), keptInt8: [...kept8, ...kept8Wide], ...(tied.length ? { tied } : {}), ...(requantized ? { requantized: requantized.weights, int8Left: requantized.left, dynamicQuantizeRemoved: requantized.dynamicQuantizeRemoved, convsDequantized: requantized.convsDequantized } : {}), layers: r.layers.map((l) => ({ ...l, weightMse: errors[l.weight.split(': ').pop()!] })) },
      },
    };
  },
});

/** One line on what re-quantizing int8 weights did, with the RMS error it added in int8 steps. */
export function requantizedNote(r: RequantizeResult, bits: number): string {
  const ws = r.weights;
  const convs = r.convsDequantized.length ? `${r.convsDequantized.length} ConvInteger as DequantizeLinear → Conv (int8 weights kept, float activations)` : '';
  const dynamic = r.dynamicQuantizeRemoved ? `${r.dynamicQuantizeRemoved} DynamicQuantizeLinear removed (float activations)` : '';
  if (!ws.length) return [convs, dynamic].filter(Boolean).join('; ');
  const layers = ws.reduce((a, w) => a + w.layers, 0);
  const forms = ['MatMulInteger', 'DequantizeLinear', 'table'].map((f) => [f, ws.filter((w) => w.form === f).length] as const).filter(([, n]) => n > 0).map(([f, n]) => `${n} ${f === 'table' ? 'token table' : f}`).join(', ');
  const steps = ws.map((w) => w.rmseInt8Steps);
  const rel = Math.max(...ws.map((w) => w.relativeRmse));
  return [`${ws.length} int8 weight(s) (${forms}; ${layers} layer(s)) re-quantized to ${bits}-bit from their dequantized values, rounded twice: RMS error ${Math.min(...steps).toFixed(2)}-${Math.max(...steps).toFixed(2)} int8 steps, at most ${(100 * rel).toFixed(1)} % of the weight's RMS`, convs, dynamic].filter(Boolean).join('; ');
}

/** For a refusal: the int8 layers `requantizeInt8` would take ('' when there are none). */
function requantizeHint(model: Model, format: string): string {
  const n = requantizableLayers(model);
  // re-quantizing makes nothing smaller unless there are MatMul weights or token tables: a
  // convolution stays int8 (MatMulNBits holds no convolution), only its form changes
  if (!n.linear && !n.tables) return n.convs ? `; its ${n.convs} ConvInteger layer(s) are int8 already, and no 4-bit form holds a convolution weight (MatMulNBits is for MatMul): nothing smaller can be made from them` : '';
  const what = [n.linear ? `${n.linear} int8 MatMul layer(s)` : '', n.tables ? `${n.tables} int8 token table(s)` : '', n.convs ? `${n.convs} ConvInteger layer(s) (to DequantizeLinear → Conv)` : ''].filter(Boolean).join(' and ');
  return `; ${what} can be re-quantized from their int8 weights with requantizeInt8 (--requantize-int8${format === 'matmulnbits' ? '' : ' --format matmulnbits'}), rounded twice`;
}
