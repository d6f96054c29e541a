/**
 * Writes a set of quantized weights into a model in one of the weight-only formats, choosing per
 * weight a form the model's opset can hold, with a size check and a size report. Used by RTN,
 * GPTQ, QAT and mixed precision.
 */
import { type Graph, type Model, type Node, NameGenerator, definedNames, eliminateDeadCode, opsetVersion, scopedName, subgraphsOf } from '@whittle/graph';
import { containerDType, emitDequantizeWeight, emitMatMulNBits, ensureDomain, matMulNBitsBytes, matMulNBitsEligible, nbitsContainer } from './emit.js';
import { emitCastMul, emitGatherBlockQuantized, gatherBlockBytes, gatherBlockEligible } from './emit_fallback.js';
import { dqSupports } from './opset_plan.js';
import { SkipLog } from './skips.js';
import { type QuantizedWeight, type WeightSite, blocksPerRow, canonical, modelInitializerBytes, quantizeRtn, siteFloatBytes, siteFloatType, siteValues, tensorBytes } from './weights.js';

/** Output format of weight-only quantization. */
export type WeightFormat = 'qdq' | 'matmulnbits';

/** Bytes a new node (name, op type, input/output names) adds to the file, roughly. */
export const NODE_BYTES = 64;

/** Per-layer line of a weight-quantization report. */
export interface LayerLine {
  node: string;
  op: string;
  weight: string;
  shape: number[];
  bits: number;
  granularity: string;
  emitted: 'DequantizeLinear' | 'MatMulNBits' | 'GatherBlockQuantized' | 'Cast+Mul';
  container: string;
  /** Why this form instead of the preferred one (empty when preferred). */
  fallback: string;
  /** Readers of the weight (nodes sharing it). */
  readers: number;
  /** Op types of readers other than the quantized sites (a tied table's Transpose / LM head): they read the one dequantized copy. */
  alsoReadBy?: string[];
  bytesBefore: number;
  bytesAfter: number;
  [extra: string]: unknown;
}

/** Result of {@link writeQuantizedWeights}. */
export interface WriteResult {
  layers: LayerLine[];
  warnings: string[];
  skips: SkipLog;
  /** Weights per emitted form. */
  forms: Record<string, number>;
  /** Float16 weights written (their scales float16, so their readers stay float16). */
  float16Weights: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Node input slots reading `name` in `g` and nested subgraphs (where not shadowed), plus graph outputs. */
export function readersOf(g: Graph, name: string): { nodes: { node: Node; input: number }[]; outputs: number } {
  const nodes: { node: Node; input: number }[] = [];
  let outputs = g.outputs.filter((o) => o.name === name).length;
  const walk = (x: Graph, top: boolean): void => {
    if (!top && definedNames(x).has(name)) return;
    if (!top) outputs += x.outputs.filter((o) => o.name === name).length;
    for (const n of x.nodes) {
      n.inputs.forEach((i, k) => {
        if (i === name) nodes.push({ node: n, input: k });
      });
      for (const sg of subgraphsOf(n)) walk(sg, false);
    }
  };
  walk(g, true);
  return { nodes, outputs };
}

function dqBytes(q: QuantizedWeight, allow4: boolean, scaleBytes: number): number {
  const groups = q.granularity === 'per-tensor' ? 1 : q.granularity === 'per-channel' ? q.rows : q.rows * blocksPerRow(q);
  const dt = containerDType(q.bits, q.symmetric, allow4);
  return tensorBytes(dt, q.rows * q.cols) + groups * scaleBytes + (q.symmetric ? 0 : tensorBytes(dt, groups));
}

type Form = { kind: LayerLine['emitted']; q: QuantizedWeight; fallback: string; bytes: number; container: string };

/**
 * Replace each weight by its quantized form. Entries reading the same initializer are one weight,
 * quantized once (the first entry's `q`): DequantizeLinear-based forms keep the initializer's
 * name so every reader shares them; MatMulNBits / GatherBlockQuantized share the packed tensors.
 *
 * Per weight, the preferred form is DequantizeLinear (block-wise / int4 needs opset 21), or
 * with `format: 'matmulnbits'` MatMulNBits (MatMul/Gemm) and GatherBlockQuantized (a 4-bit
 * block-wise table read by Gathers only). Below what the model's opset holds: MatMul/Gemm →
 * com.microsoft MatMulNBits, Gather → com.microsoft GatherBlockQuantized, otherwise int8
 * requantized from the float weight per channel: DequantizeLinear (opset >= 13), else int8 +
 * Cast + Mul (per-tensor DequantizeLinear at 10..12 is too coarse after BatchNorm folding). A weight whose form is not smaller than its float bytes is
 * left in float (in `skips`). A float16 weight gets float16 scales, so every form outputs float16:
 * DequantizeLinear then needs opset 19 (below it, MatMulNBits / GatherBlockQuantized or int8 +
 * Cast + Mul). Modifies `model` in place (give it a clone).
 */
export async function writeQuantizedWeights(model: Model, entries: readonly { site: WeightSite; q: QuantizedWeight }[], format: WeightFormat, skips = new SkipLog()): Promise<WriteResult> {
  const bytesBefore = modelInitializerBytes(model);
  const opset = opsetVersion(model) ?? 1;
  const allow4 = opset >= 21;
  const names = new NameGenerator(model.graph);
  const warnings: string[] = [];
  const layers: LayerLine[] = [];
  const forms: Record<string, number> = {};
  let float16Weights = 0;
  const groups = new Map<Graph, Map<string, { site: WeightSite; q: QuantizedWeight }[]>>();
  for (const e of entries) {
    let m = groups.get(e.site.graph);
    if (!m) groups.set(e.site.graph, (m = new Map()));
    const l = m.get(e.site.name);
    if (l) l.push(e);
    else m.set(e.site.name, [e]);
  }
  for (const byName of groups.values()) {
    for (const [name, group] of byName) {
      const { site, q } = group[0]!;
      const label = scopedName({ path: site.scope }, name);
      const readers = readersOf(site.graph, name);
      const onlySites = readers.outputs === 0 && readers.nodes.length === group.length && readers.nodes.every((r) => group.some((e) => e.site.node === r.node && e.site.input === r.input));
      const floatBytes = tensorBytes(site.tensor.dtype, site.tensor.size);
      const form = await chooseForm(group, q, format, opset, onlySites);
      const added = form.kind === 'DequantizeLinear' ? NODE_BYTES : form.kind === 'Cast+Mul' ? 2 * NODE_BYTES : 0;
      if (form.bytes + added >= floatBytes) {
        skips.add(site.node.opType, label, `not smaller quantized (${floatBytes} ${site.tensor.dtype} bytes -> ${form.bytes + added} as ${form.kind})`);
        continue;
      }
      if (form.kind === 'MatMulNBits') {
        ensureDomain(model, 'com.microsoft', 1);
        const container = nbitsContainer(q.bits);
        let packed: [string, string, string] | undefined;
        for (const e of group) {
          const mm = emitMatMulNBits(e.site.nodeGraph, e.site, form.q, names, container, packed)[0]!;
          packed = [mm.inputs[1]!, mm.inputs[2]!, mm.inputs[3]!];
        }
      } else if (form.kind === 'GatherBlockQuantized') {
        ensureDomain(model, 'com.microsoft', 1);
        let packed: [string, string, string] | undefined;
        for (const e of group) packed = emitGatherBlockQuantized(e.site, form.q, names, packed).packed;
      } else if (form.kind === 'Cast+Mul') emitCastMul(site, form.q, names);
      else emitDequantizeWeight(site, form.q, names, allow4);
      forms[form.kind] = (forms[form.kind] ?? 0) + 1;
      if (siteFloatType(site) === 'float16') float16Weights++;
      const others = [...new Set(readers.nodes.filter((r) => !group.some((e) => e.site.node === r.node && e.site.input === r.input)).map((r) => r.node.opType))];
      if (others.length) warnings.push(`${label}: one quantized copy (${form.kind}) also read by ${others.join('/')} (shared, e.g. an LM head tied with the embedding)`);
      for (const e of group) {
        layers.push({
          node: e.site.node.name, op: e.site.node.opType, weight: label, shape: e.site.shape, bits: form.q.bits, granularity: form.q.granularity,
          emitted: form.kind, container: form.container, fallback: form.fallback, readers: readers.nodes.length, bytesBefore: floatBytes, bytesAfter: form.bytes,
          ...(others.length ? { alsoReadBy: others } : {}),
        });
      }
    }
  }
  for (const g of groups.keys()) eliminateDeadCode(g);
  const fallbacks = new Map<string, number>();
  for (const l of layers) if (l.fallback) fallbacks.set(`${l.op} -> ${l.emitted}: ${l.fallback}`, (fallbacks.get(`${l.op} -> ${l.emitted}: ${l.fallback}`) ?? 0) + 1);
  // format matmulnbits keeps the model's opset; format qdq raises it to store sub-8-bit DequantizeLinear codes
  const raiseHint = format === 'matmulnbits' && opset < 21 ? ' (--format qdq raises the opset to 21 and stores them at the grid\'s bits)' : '';
  for (const [f, n] of fallbacks) warnings.push(`${n} weight reader(s) ${f}${/int8|8-bit containers/.test(f) ? raiseHint : ''}`);
  warnings.push(...skips.warnings());
  return { layers, warnings, skips, forms, float16Weights, bytesBefore, bytesAfter: modelInitializerBytes(model) };
}

async function chooseForm(group: readonly { site: WeightSite; q: QuantizedWeight }[], q: QuantizedWeight, format: WeightFormat, opset: number, onlySites: boolean): Promise<Form> {
  const { site } = group[0]!;
  const allow4 = opset >= 21;
  const scaleBytes = siteFloatBytes(site);
  // DequantizeLinear outputs float16 (float16 scales) from opset 19
  const half = siteFloatType(site) === 'float16';
  const dqFloatOk = !half || opset >= 19;
  const nbitsOk = onlySites && group.every((e) => matMulNBitsEligible(e.site, q));
  const container = (qq: QuantizedWeight, a4: boolean): string => containerDType(qq.bits, qq.symmetric, a4);
  if (format === 'matmulnbits' && nbitsOk) {
    const bits = nbitsContainer(q.bits);
    return { kind: 'MatMulNBits', q, fallback: '', bytes: matMulNBitsBytes(q, bits, scaleBytes), container: `${bits}-bit` };
  }
  // an embedding table read by Gathers only: GatherBlockQuantized gathers the rows it needs, where
  // DequantizeLinear → Gather would dequantize the whole table on every call (onnxruntime does not
  // fold DequantizeLinear of an initializer)
  if (format === 'matmulnbits' && q.granularity === 'block' && onlySites && group.every((e) => gatherBlockEligible(e.site, q))) {
    return { kind: 'GatherBlockQuantized', q, fallback: '', bytes: gatherBlockBytes(q, scaleBytes), container: 'uint8 (4-bit packed)' };
  }
  const fallbackFrom = format === 'matmulnbits' ? (onlySites ? 'not a MatMul/plain-Gemm block-wise weight' : 'weight also read by other nodes') : '';
  if (dqSupports(opset, q.granularity) && dqFloatOk) {
    const wide = q.bits < 8 && !allow4 ? `stored in 8-bit containers (4-bit types need opset 21, model has ${opset})` : '';
    return { kind: 'DequantizeLinear', q, fallback: [fallbackFrom, wide].filter(Boolean).join('; '), bytes: dqBytes(q, allow4, scaleBytes), container: container(q, allow4) };
  }
  const why = dqSupports(opset, q.granularity)
    ? `float16 DequantizeLinear needs opset 19, model has ${opset}`
    : `${q.granularity === 'block' ? 'block-wise' : q.granularity} DequantizeLinear needs opset ${q.granularity === 'block' ? 21 : q.granularity === 'per-channel' ? 13 : 10}, model has ${opset}`;
  if (q.granularity === 'block' && nbitsOk) {
    const bits = nbitsContainer(q.bits);
    return { kind: 'MatMulNBits', q, fallback: why, bytes: matMulNBitsBytes(q, bits, scaleBytes), container: `${bits}-bit` };
  }
  if (q.granularity === 'block' && onlySites && group.every((e) => gatherBlockEligible(e.site, q))) {
    return { kind: 'GatherBlockQuantized', q, fallback: why, bytes: gatherBlockBytes(q, scaleBytes), container: 'uint8 (4-bit packed)' };
  }
  // int8 requantized from the float weight, per output channel: DequantizeLinear from opset 13,
  // int8 + Cast + Mul below (per-tensor DequantizeLinear at 10..12 loses too much after BN folding)
  const w = canonical(site, await siteValues(site));
  const reason = onlySites || q.granularity !== 'block' ? why : `${why}; weight also read by other nodes`;
  const q8 = quantizeRtn(w, site.rows, site.cols, { bits: 8, symmetric: true, granularity: 'per-channel', blockSize: 0 });
  if (opset >= 13 && dqFloatOk) return { kind: 'DequantizeLinear', q: q8, fallback: `${reason}: int8 per-channel`, bytes: dqBytes(q8, false, scaleBytes), container: 'int8' };
  return { kind: 'Cast+Mul', q: q8, fallback: `${reason}: int8 + Cast + Mul per-channel`, bytes: site.tensor.size + site.rows * scaleBytes, container: 'int8' };
}

/** Report pieces shared by the weight-only passes: form counts, fallbacks, skips, opset change. */
export function writeSummary(r: WriteResult, raise?: { from: number; opset: number; upgraded: boolean; blockedBy: string }): { text: string; details: Record<string, unknown> } {
  const forms = Object.entries(r.forms).map(([k, n]) => `${n} ${k}`).join(', ');
  // fallbacks the opset forced: an 8-bit grid, or sub-8-bit codes in 8-bit containers
  const at8 = r.layers.filter((l) => /int8 \+ Cast|: int8 per-channel|8-bit containers/.test(l.fallback)).length;
  // a model whose weights are all integer already (re-quantized or skipped, said after this) has no float weight
  const parts = [`${r.layers.length ? `${r.layers.length} weight readers quantized` : 'no float weight quantized'}${forms ? ` (${forms})` : ''}${at8 ? `, ${at8} of them stored at 8 bits as the model's opset ${raise?.opset ?? ''} allows (see the warnings)`.replace(' opset  allows', ' opset allows') : ''}`];
  if (r.float16Weights) parts.push(`${r.float16Weights} float16 weight${r.float16Weights > 1 ? 's' : ''} quantized with float16 scales (float16 activations kept)`);
  if (raise?.upgraded) parts.push(`opset ${raise.from} -> ${raise.opset}`);
  else if (raise?.blockedBy) parts.push(`kept opset ${raise.from} (${raise.blockedBy})`);
  const s = r.skips.summary();
  if (s) parts.push(s);
  parts.push(`initializers ${r.bytesBefore} -> ${r.bytesAfter} bytes`);
  return {
    text: parts.join('; '),
    details: {
      forms: r.forms,
      ...(r.float16Weights ? { float16Weights: r.float16Weights } : {}),
      skipped: r.skips.items,
      skippedByOp: r.skips.byOp(),
      ...(raise ? { opset: { from: raise.from, to: raise.opset, upgraded: raise.upgraded, blockedBy: raise.blockedBy } } : {}),
    },
  };
}
