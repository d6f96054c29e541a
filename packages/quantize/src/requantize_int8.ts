/**
 * Re-quantizing a model's int8 layers (see `int8_layers.ts`) to n-bit block-wise weights: each
 * int8 weight is dequantized exactly as the model computes with it, rounded again onto the n-bit
 * grid and written as com.microsoft MatMulNBits (float activations: the layer's
 * DynamicQuantizeLinear, Cast and rescaling go) or, for a token table, one 4-bit copy read by
 * GatherBlockQuantized and by the tied head's MatMulNBits. The error reported per weight is
 * against the dequantized int8 weight — the float weight it came from is not in the file, so its
 * own int8 rounding comes on top (the weight is rounded twice).
 */
import { type Graph, type Model, type NameGenerator, type Node, createNode, eliminateDeadCode, scopedName, subgraphsOf, throwIfAborted } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, ensureDomain, matMulNBitsNode, nbitsContainer, packMatMulNBits } from './emit.js';
import { type Int8Conv, type Int8Linear, type Int8Table, type Int8Weight, dequantizeInt8, findInt8Layers, int8Step } from './int8_layers.js';
import { quantizeSiteRtn } from './rtn_nbits.js';
import { gatherReadsHeadZeroPoints, reshapeBack, sharedGatherView } from './tied_head.js';
import { type QuantizedWeight, blocksPerRow, canonical, dequantizeWeight } from './weights.js';
import { rowwiseMse } from './quant_math.js';

/** The grid the int8 weights are rounded onto again (block-wise along the reduction dimension). */
export interface RequantizeSpec {
  bits: number;
  symmetric: boolean;
  /** Largest block size; a weight whose reduction dimension is shorter uses the power of two >= it (>= 16). */
  blockSize: number;
  /**
   * Block quantizer of a canonical [rows, cols] weight (rows = output channels) with the given
   * block size; default min/max round-to-nearest on the `bits` / `symmetric` grid.
   */
  quantize?: (w: Float64Array, rows: number, cols: number, blockSize: number) => QuantizedWeight;
}

/** `spec`'s quantizer on a weight in native layout (rowAxis 1: [K, N]; 0: [V, D]), with its MSE. */
function quantizeBlock(site: { rowAxis: number; rows: number; cols: number; shape: number[] }, values: Float32Array, spec: RequantizeSpec, blockSize: number): { q: QuantizedWeight; mse: number } {
  if (!spec.quantize) return quantizeSiteRtn(site, values, { bits: spec.bits, symmetric: spec.symmetric, granularity: 'block', blockSize }, true);
  const w = canonical(site, values);
  const q = spec.quantize(w, site.rows, site.cols, blockSize);
  return { q, mse: rowwiseMse(w, dequantizeWeight(q), site.rows, site.cols) };
}

/** One re-quantized int8 weight. */
export interface RequantizedWeight {
  weight: string;
  /** 'MatMulInteger' (dynamic int8), 'DequantizeLinear' (QDQ MatMul weight) or 'table' (Gather / tied head). */
  form: 'MatMulInteger' | 'DequantizeLinear' | 'table';
  shape: [number, number];
  /** Layers now reading it: MatMulNBits nodes, and GatherBlockQuantized nodes for a table. */
  layers: number;
  int8: { dtype: string; granularity: 'per-tensor' | 'per-row' | 'per-column'; step: number };
  bits: number;
  blockSize: number;
  /** Mean squared error of the n-bit weight against the dequantized int8 weight. */
  mse: number;
  /** RMS error in steps of the int8 grid (above 0.5 the int8 grid was the finer one). */
  rmseInt8Steps: number;
  /** RMS error over the RMS of the weight. */
  relativeRmse: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** What {@link requantizeInt8Layers} did. */
export interface RequantizeResult {
  weights: RequantizedWeight[];
  /** Integer layers left as they are, with why. */
  left: { op: string; name: string; reason: string }[];
  /** Activations no longer quantized at run time (DynamicQuantizeLinear nodes removed). */
  dynamicQuantizeRemoved: number;
  /** Dynamic-int8 convolutions now `DequantizeLinear` → `Conv` on float activations (int8 weights kept), by node name. */
  convsDequantized: string[];
}

/** The power of two (>= 16) a reduction dimension of `k` uses: `blockSize`, or less for a short `k`. */
function blockFor(k: number, blockSize: number): number {
  let p = 16;
  while (p < k && p < blockSize) p *= 2;
  return Math.min(blockSize, p);
}

/** The largest power of two <= `blockSize` (>= 16) dividing `d` (a shared table needs whole blocks), else 0. */
function tableBlock(d: number, blockSize: number): number {
  for (let p = blockSize; p >= 16; p /= 2) if (Number.isInteger(p) && d % p === 0) return p;
  return 0;
}

async function stats(w: Int8Weight, values: Float32Array, mse: number): Promise<Pick<RequantizedWeight, 'int8' | 'mse' | 'rmseInt8Steps' | 'relativeRmse'>> {
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += values[i]! * values[i]!;
  const step = await int8Step(w);
  const granularity = w.axis < 0 ? 'per-tensor' : w.axis === 0 ? 'per-row' : 'per-column';
  return { int8: { dtype: w.dtype, granularity, step }, mse, rmseInt8Steps: Math.sqrt(mse) / step, relativeRmse: Math.sqrt(mse / Math.max(sq / values.length, Number.MIN_VALUE)) };
}

function int8Bytes(w: Int8Weight): number {
  const groups = w.axis < 0 ? 1 : w.shape[w.axis]!;
  return w.shape[0] * w.shape[1] + groups * 4 + (w.zeroPoint ? groups : 0);
}

function base(name: string): string {
  return name.replace(/_quantized$/, '');
}

function replaceNode(g: Graph, at: Node, nodes: Node[], drop: readonly Node[] = []): void {
  g.nodes.splice(g.nodes.indexOf(at), 1, ...nodes);
  for (const d of drop) {
    const i = g.nodes.indexOf(d);
    if (i >= 0) g.nodes.splice(i, 1);
  }
}

/**
 * A ConvInteger layer as `DequantizeLinear(W8, scale, zp)` → `Conv` on the float activation: the
 * same int8 weight, no activation rounding, and ops onnxruntime-web's WebGPU provider runs (it has
 * no ConvInteger / DynamicQuantizeLinear kernels). Scale and zero point become scalars, as
 * DequantizeLinear-10 takes them.
 */
async function dequantizeConv(c: Int8Conv, names: NameGenerator): Promise<void> {
  const scalar = async (name: string): Promise<string> => {
    const owner = c.chain.find((g) => g.initializers.has(name))!;
    const t = owner.initializers.get(name)!;
    if (t.shape.length === 0) return name;
    const copy = names.value(`${name}_scalar`);
    owner.initializers.set(copy, tensor((await t.data()) as never, [], t.dtype, { backend: 'cpu' }));
    return copy;
  };
  const weight = names.value(`${c.weight}_dequantized`);
  const inputs = [c.weight, await scalar(c.scale), ...(c.zeroPoint ? [await scalar(c.zeroPoint)] : [])];
  const dq = createNode('DequantizeLinear', inputs, [weight], {}, { name: names.node(`${c.node.name || c.weight}_DequantizeLinear`) });
  const conv = createNode('Conv', [c.input, weight], [c.output], new Map([...c.node.attributes]), { name: names.node(`${c.node.name || c.weight}_Conv`) });
  replaceNode(c.graph, c.node, [dq, conv], c.drop);
}

/** One weight's MatMulNBits tensors in its owner graph, read by every layer of `layers`. */
async function requantizeLinear(layers: readonly Int8Linear[], spec: RequantizeSpec, names: NameGenerator): Promise<RequantizedWeight> {
  const w = layers[0]!.weight;
  const [K, N] = w.shape;
  const values = await dequantizeInt8(w);
  const bs = blockFor(K, spec.blockSize);
  const { q, mse } = quantizeBlock({ rowAxis: 1, rows: N, cols: K, shape: [K, N] }, values, spec, bs);
  const container = nbitsContainer(spec.bits);
  const { B, Z } = packMatMulNBits(q, container);
  const nb = blocksPerRow(q);
  const t: [string, string, string] = [names.value(`${base(w.name)}_nbits`), names.value(`${base(w.name)}_nbits_scales`), names.value(`${base(w.name)}_nbits_zero_points`)];
  w.owner.initializers.set(t[0], tensor(B, [N, nb, (bs * container) / 8], 'uint8', { backend: 'cpu' }));
  w.owner.initializers.set(t[1], cpuTensor(q.scales, [N * nb], 'float32'));
  w.owner.initializers.set(t[2], tensor(Z, [Z.length], 'uint8', { backend: 'cpu' }));
  for (const l of layers) {
    const mm = matMulNBitsNode(l.input, t, l.output, { K, N, bits: container, blockSize: bs }, names.node(`${l.anchor.name || base(w.name)}_MatMulNBits`));
    replaceNode(l.graph, l.anchor, [mm], l.drop);
  }
  return { weight: w.label, form: layers[0]!.form, shape: w.shape, layers: layers.length, bits: spec.bits, blockSize: bs, ...(await stats(w, values, mse)), bytesBefore: int8Bytes(w), bytesAfter: B.length + q.scales.length * 4 + Z.length };
}

/** A table as one 4-bit copy: GatherBlockQuantized for its gathers, MatMulNBits for its tied heads. */
async function requantizeTable(t: Int8Table, spec: RequantizeSpec, bs: number, names: NameGenerator): Promise<RequantizedWeight> {
  const w = t.weight;
  const [V, D] = w.shape;
  const values = await dequantizeInt8(w);
  const { q, mse } = quantizeBlock({ rowAxis: 0, rows: V, cols: D, shape: [V, D] }, values, spec, bs);
  const nb = blocksPerRow(q);
  const { B, Z } = packMatMulNBits(q, 4);
  const g = w.owner;
  const label = base(w.name);
  const data = names.value(`${label}_q4`);
  const scales = names.value(`${label}_q4_scales`);
  g.initializers.set(data, tensor(B, [V, nb, bs / 2], 'uint8', { backend: 'cpu' }));
  g.initializers.set(scales, cpuTensor(q.scales, [V, nb], 'float32'));
  let bytes = B.length + q.scales.length * 4;
  // both ops default to zero point 8 for 4-bit codes: stored only for other grids
  const zeros = q.zeroPoints.some((z) => z !== 8);
  // the gathers read the heads' packed zero points where they can (see sharedGatherView), else one per block
  const packedForGathers = t.gathers.length > 0 && gatherReadsHeadZeroPoints(nb);
  const headZ = zeros && (t.heads.length || packedForGathers) ? names.value(`${label}_q4_zero_points`) : '';
  const gatherZ = zeros && t.gathers.length && !packedForGathers ? names.value(`${label}_q4_gather_zero_points`) : '';
  if (headZ) {
    g.initializers.set(headZ, tensor(Z, [Z.length], 'uint8', { backend: 'cpu' }));
    bytes += Z.length;
  }
  if (gatherZ) {
    g.initializers.set(gatherZ, tensor(Uint8Array.from(q.zeroPoints), [V, nb, 1], 'uint8', { backend: 'cpu' }));
    bytes += V * nb;
  }
  if (t.gathers.length) {
    const view = sharedGatherView(g, names, { table: `${label}_q4`, data, scales, headZ, gatherZ, V, D, nb });
    g.nodes.unshift(...view.front);
    for (const r of t.gathers) {
      const n = r.gather;
      const out = r.dequantize.outputs[0]!;
      const blocks = view.blocks ? names.value(`${out}_blocks`) : out;
      const gbq = createNode(
        'GatherBlockQuantized',
        [view.inputs[0]!, n.inputs[1]!, ...view.inputs.slice(1)],
        [blocks],
        { gather_axis: { type: 'int', value: 0 }, quantize_axis: { type: 'int', value: view.quantizeAxis }, block_size: { type: 'int', value: bs }, bits: { type: 'int', value: 4 } },
        { name: names.node(`${n.name || label}_GatherBlockQuantized`), domain: 'com.microsoft' },
      );
      replaceNode(r.graph, n, [gbq, ...(view.blocks ? reshapeBack(r.graph, names, n.inputs[1]!, blocks, out, D, n.name || label) : [])], [r.dequantize]);
    }
  }
  for (const h of t.heads) {
    const mm = matMulNBitsNode(h.node.inputs[0]!, [data, scales, headZ], h.node.outputs[0]!, { K: D, N: V, bits: 4, blockSize: bs }, names.node(`${h.node.name || 'lm_head'}_MatMulNBits`));
    if (!headZ) mm.inputs.length = 3;
    replaceNode(h.graph, h.node, [mm]);
  }
  return { weight: w.label, form: 'table', shape: w.shape, layers: t.gathers.length + t.heads.length, bits: spec.bits, blockSize: bs, ...(await stats(w, values, mse)), bytesBefore: int8Bytes(w), bytesAfter: bytes };
}

/**
 * Re-quantize, in place, every int8 layer {@link findInt8Layers} finds to `spec`, then drop what
 * no longer computes anything (the int8 weights, DynamicQuantizeLinear nodes no layer reads).
 * Adds the com.microsoft opset import when something was rewritten.
 */
export async function requantizeInt8Layers(model: Model, spec: RequantizeSpec, names: NameGenerator, opts: { signal?: AbortSignal; onProgress?: (fraction: number, message: string) => void; exclude?: { names?: readonly string[]; ops?: readonly string[] } } = {}): Promise<RequantizeResult> {
  const found = findInt8Layers(model);
  const left = [...found.left];
  // excluded by node name, or by op type: 'MatMulInteger', 'MatMul' (DequantizeLinear weights), 'Gather' (tables and their tied heads)
  const xNames = new Set(opts.exclude?.names ?? []);
  const xOps = new Set(opts.exclude?.ops ?? []);
  const excluded = (l: Int8Linear): boolean => xNames.has(l.anchor.name) || xOps.has(l.form === 'MatMulInteger' ? 'MatMulInteger' : 'MatMul');
  for (const l of found.linear.filter(excluded)) left.push({ op: l.anchor.opType, name: l.anchor.name || l.output, reason: 'excluded: kept int8' });
  for (const t of found.tables.filter((x) => xOps.has('Gather') || [...x.gathers.map((g) => g.gather), ...x.heads.map((h) => h.node)].some((n) => xNames.has(n.name)))) left.push({ op: 'Gather', name: t.weight.label, reason: 'excluded: table and tied head kept int8' });
  const groups = new Map<Graph, Map<string, Int8Linear[]>>();
  for (const l of found.linear.filter((x) => !excluded(x))) {
    let m = groups.get(l.weight.owner);
    if (!m) groups.set(l.weight.owner, (m = new Map()));
    const key = `${l.weight.name}\u0000${l.weight.scale}\u0000${l.weight.zeroPoint}\u0000${l.weight.axis}`;
    const list = m.get(key);
    if (list) list.push(l);
    else m.set(key, [l]);
  }
  const linear = [...groups.values()].flatMap((m) => [...m.values()]);
  const tables: [Int8Table, number][] = [];
  for (const t of found.tables) {
    if (left.some((x) => x.op === 'Gather' && x.name === t.weight.label)) continue;
    const bs = spec.bits <= 4 ? tableBlock(t.weight.shape[1], spec.blockSize) : 0;
    if (bs) tables.push([t, bs]);
    else left.push({ op: 'Gather', name: t.weight.label, reason: spec.bits > 4 ? 'GatherBlockQuantized holds 4-bit codes only' : `table width ${t.weight.shape[1]} is not a multiple of a block size of 16 to ${spec.blockSize}` });
  }
  // convolutions: excluded by node name or as 'ConvInteger'
  const convs = found.convs.filter((c) => !xNames.has(c.node.name) && !xOps.has('ConvInteger'));
  for (const c of found.convs.filter((x) => !convs.includes(x))) left.push({ op: 'ConvInteger', name: scopedName({ path: c.scope }, c.node.name || c.output), reason: 'excluded: kept int8' });
  const dynamicBefore = countOp(model.graph, 'DynamicQuantizeLinear');
  const weights: RequantizedWeight[] = [];
  const total = linear.length + tables.length;
  for (const [t, bs] of tables) {
    throwIfAborted(opts.signal, 'quantize-weights (int8 tables)');
    weights.push(await requantizeTable(t, spec, bs, names));
    opts.onProgress?.(weights.length / total, t.weight.label);
  }
  for (const layers of linear) {
    throwIfAborted(opts.signal, 'quantize-weights (int8 layers)');
    weights.push(await requantizeLinear(layers, spec, names));
    opts.onProgress?.(weights.length / total, layers[0]!.weight.label);
  }
  const convsDequantized: string[] = [];
  for (const c of convs) {
    await dequantizeConv(c, names);
    convsDequantized.push(scopedName({ path: c.scope }, c.node.name || c.output));
  }
  if (weights.length || convs.length) {
    if (weights.length) ensureDomain(model, 'com.microsoft', 1);
    // a main-graph weight stays live while a branch still reads it: once more after the branches are clean
    for (let i = 0; i < 4 && eliminateDeadCode(model.graph).initializers > 0; i++);
    // an int8 weight something else still reads stays stored next to its n-bit copy: said, not hidden
    for (const w of [...linear.map((l) => l[0]!.weight), ...tables.map(([t]) => t.weight)]) {
      if (w.owner.initializers.has(w.name)) left.push({ op: 'int8 weight', name: w.label, reason: 'still read by other nodes: stored twice' });
    }
  }
  return { weights, left, dynamicQuantizeRemoved: dynamicBefore - countOp(model.graph, 'DynamicQuantizeLinear'), convsDequantized };
}

function countOp(g: Graph, op: string): number {
  let n = 0;
  const visit = (x: Graph): void => {
    for (const node of x.nodes) {
      if (node.opType === op) n++;
      for (const sg of subgraphsOf(node)) visit(sg);
    }
  };
  visit(g);
  return n;
}

/** Count of int8 layers {@link requantizeInt8Layers} would rewrite, by form (for a refusal's hint). */
export function requantizableLayers(model: Model): { linear: number; tables: number; convs: number } {
  const f = findInt8Layers(model);
  return { linear: f.linear.length, tables: f.tables.length, convs: f.convs.length };
}
