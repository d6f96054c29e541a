/**
 * A token-embedding table tied with the LM head (the table [V, D] read by Gather and, through a
 * Transpose, by the last MatMul: logits = h · tableᵀ) in weight-only int4:
 *
 * - `shared`: quantized once. The packed 4-bit codes are one uint8 initializer [V, D/bs, bs/2] —
 *   exactly MatMulNBits' B layout for N = V, K = D — read by the head's MatMulNBits and by a
 *   GatherBlockQuantized that sees the same bytes as a [V, D/bs, bs] table quantized along its
 *   last axis (one block per row of that view), whose output is reshaped back to [..., D]. The
 *   scales are one [V, D/bs] initializer (MatMulNBits' shape), reshaped to [V, D/bs, 1] for the
 *   gather. Symmetric grids omit zero points (both ops default to 8); asymmetric ones need the
 *   two ops' different zero-point packings, stored twice (V·D/bs/2 + V·D/bs bytes).
 * - `int8`: the gather reads 4-bit GatherBlockQuantized, the head its own 8-bit MatMulNBits copy.
 * - `float`: the gather reads 4-bit GatherBlockQuantized, the head keeps the float32 table.
 */
import { type Graph, type NameGenerator, type Node, createNode, getInts } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { cpuTensor, matMulNBitsNode, packMatMulNBits } from './emit.js';
import { emitGatherBlockQuantized } from './emit_fallback.js';
import { type QuantizedWeight, type WeightSite, blocksPerRow, siteFloatBytes, siteFloatType } from './weights.js';
import { readersOf } from './write_weights.js';

/** How a tied LM head is stored. */
export type TiedHeadMode = 'shared' | 'int8' | 'float';

/** A table read by Gather nodes and, through Transpose(perm [1, 0]), by MatMul nodes as their B. */
export interface TiedTable {
  table: string;
  gathers: Node[];
  transpose: Node;
  heads: Node[];
}

/** The tied table `site` (a Gather's table in the main graph) belongs to, if any. */
export function findTiedTable(g: Graph, site: WeightSite): TiedTable | undefined {
  if (site.node.opType !== 'Gather' || site.graph !== g || site.nodeGraph !== g) return undefined;
  const r = readersOf(g, site.name);
  if (r.outputs) return undefined;
  const gathers = r.nodes.filter((x) => x.node.opType === 'Gather' && x.input === 0).map((x) => x.node);
  const others = r.nodes.filter((x) => !(x.node.opType === 'Gather' && x.input === 0));
  if (others.length !== 1) return undefined;
  const t = others[0]!.node;
  const perm = (t.opType === 'Transpose' ? getInts(t, 'perm') : undefined) ?? [];
  if (perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) return undefined;
  const tr = readersOf(g, t.outputs[0]!);
  if (tr.outputs || !tr.nodes.length || !tr.nodes.every((x) => x.node.opType === 'MatMul' && x.input === 1)) return undefined;
  return { table: site.name, gathers, transpose: t, heads: tr.nodes.map((x) => x.node) };
}

/** Why `q` cannot be shared by the gather and the head ('' when it can). */
export function sharedBlocker(q: QuantizedWeight): string {
  if (q.granularity !== 'block' || q.bits > 4) return `shared needs 4-bit block-wise codes (got ${q.bits}-bit ${q.granularity})`;
  if (q.cols % q.blockSize !== 0) return `shared needs the embedding width ${q.cols} to be a multiple of the block size ${q.blockSize}`;
  return '';
}

/** Bytes the tied table takes in each mode (for the report); `floatBytes` per float (4 float32, 2 for a float16 table). */
export function tiedBytes(q: QuantizedWeight, mode: TiedHeadMode, floatBytes = 4): number {
  const nb = blocksPerRow(q);
  const codes4 = (q.rows * q.cols) / 2;
  const scales = q.rows * nb * floatBytes;
  if (mode === 'shared') return codes4 + scales + (q.symmetric ? 0 : q.rows * Math.ceil(nb / 2) + q.rows * nb);
  const gbq = codes4 + scales + q.rows * Math.ceil(nb / 2);
  return mode === 'float' ? gbq + q.rows * q.cols * floatBytes : gbq + q.rows * q.cols + scales + q.rows * nb;
}

/** The Shape → Concat → Reshape nodes turning a [..., nb, bs] gather output back into [..., nb·bs]. */
export function reshapeBack(g: Graph, names: NameGenerator, ids: string, from: string, to: string, width: number, label: string): Node[] {
  const shape = names.value(`${label}_ids_shape`);
  const last = names.value(`${label}_width`);
  const full = names.value(`${label}_shape`);
  g.initializers.set(last, tensor(BigInt64Array.of(BigInt(width)), [1], 'int64', { backend: 'cpu' }));
  return [
    createNode('Shape', [ids], [shape], {}, { name: names.node(`${label}_Shape`) }),
    createNode('Concat', [shape, last], [full], { axis: { type: 'int', value: 0 } }, { name: names.node(`${label}_Concat`) }),
    createNode('Reshape', [from, full], [to], {}, { name: names.node(`${label}_Reshape`) }),
  ];
}

/** Where a shared 4-bit table's codes, scales and zero points are stored, and who reads it. */
export interface SharedTable {
  /** The float table's name (the prefix of new names). */
  table: string;
  /** Packed codes [V, nb, bs/2], scales [V, nb], MatMulNBits zero points ('' if symmetric), GatherBlockQuantized zero points [V, nb, 1] ('' if symmetric or read from the head's: {@link gatherReadsHeadZeroPoints}). */
  data: string;
  scales: string;
  headZ: string;
  gatherZ: string;
  V: number;
  D: number;
  nb: number;
  blockSize: number;
  gathers: readonly Node[];
  heads: readonly Node[];
  transpose: Node;
}

/**
 * Whether an asymmetric shared table's gathers read the MatMulNBits zero points themselves (two per
 * byte, reshaped to [V, nb/2]) over a 2-D view of the codes: onnxruntime-web's WebGPU kernel takes
 * 4-bit zero points only packed like that, which needs an even number of blocks per row. With an
 * odd count the gathers keep one zero point per block ([V, nb, 1]: onnxruntime's CPU kernel only).
 */
export function gatherReadsHeadZeroPoints(nb: number): boolean {
  return nb % 2 === 0;
}

/** How GatherBlockQuantized reads a shared table: its data, scales and zero point inputs, the nodes shaping them, and its quantize axis. */
export interface SharedGatherView {
  /** Reshapes to put first in the table's graph. */
  front: Node[];
  inputs: string[];
  quantizeAxis: 1 | 2;
  /** The gather's output is [..., nb, bs] and needs {@link reshapeBack} to [..., D]. */
  blocks: boolean;
}

/**
 * The gather's view of a shared table stored for MatMulNBits (codes [V, nb, bs/2], scales [V, nb]
 * or [V·nb]): symmetric, the codes as [V, nb, bs] blocks quantized along axis 2 with scales
 * [V, nb, 1]; asymmetric with an even block count, the codes, scales and the head's zero points
 * reshaped to [V, D/2], [V, nb], [V, nb/2] (quantize axis 1, the output already [..., D]);
 * otherwise the blocks view with `gatherZ`.
 */
export function sharedGatherView(g: Graph, names: NameGenerator, t: Pick<SharedTable, 'table' | 'data' | 'scales' | 'headZ' | 'gatherZ' | 'V' | 'D' | 'nb'>): SharedGatherView {
  const { table, V, D, nb } = t;
  const reshape = (input: string, dims: number[], label: string): [Node, string] => {
    const out = names.value(`${table}_${label}`);
    const shape = names.value(`${table}_${label}_shape`);
    g.initializers.set(shape, tensor(BigInt64Array.from(dims.map(BigInt)), [dims.length], 'int64', { backend: 'cpu' }));
    return [createNode('Reshape', [input, shape], [out], {}, { name: names.node(`${table}_${label}_Reshape`) }), out];
  };
  if (t.headZ && gatherReadsHeadZeroPoints(nb)) {
    const [a, data] = reshape(t.data, [V, D / 2], 'q4_rows');
    const [b, scales] = reshape(t.scales, [V, nb], 'scales_rows');
    const [c, zeros] = reshape(t.headZ, [V, nb / 2], 'zero_points_rows');
    return { front: [a, b, c], inputs: [data, scales, zeros], quantizeAxis: 1, blocks: false };
  }
  const [a, scales3] = reshape(t.scales, [V, nb, 1], 'scales_3d');
  return { front: [a], inputs: [t.data, scales3, ...(t.gatherZ ? [t.gatherZ] : [])], quantizeAxis: 2, blocks: true };
}

/**
 * Point the table's Gathers at GatherBlockQuantized (see {@link sharedGatherView}) and its heads at
 * MatMulNBits, all reading the same codes; drop the Transpose. The in-memory and the streaming
 * paths share this rewrite; each stores the initializers its own way.
 */
export function rewireSharedTable(g: Graph, names: NameGenerator, t: SharedTable): void {
  const { table, data, scales, headZ, V, D, blockSize: bs } = t;
  const view = sharedGatherView(g, names, t);
  for (const n of t.gathers) {
    const blocks = view.blocks ? names.value(`${n.outputs[0]}_blocks`) : n.outputs[0]!;
    const gbq = createNode(
      'GatherBlockQuantized',
      [view.inputs[0]!, n.inputs[1]!, ...view.inputs.slice(1)],
      [blocks],
      { gather_axis: { type: 'int', value: 0 }, quantize_axis: { type: 'int', value: view.quantizeAxis }, block_size: { type: 'int', value: bs }, bits: { type: 'int', value: 4 } },
      { name: names.node(`${n.name || table}_GatherBlockQuantized`), domain: 'com.microsoft' },
    );
    g.nodes.splice(g.nodes.indexOf(n), 1, gbq, ...(view.blocks ? reshapeBack(g, names, n.inputs[1]!, blocks, n.outputs[0]!, D, n.name || table) : []));
  }
  for (const h of t.heads) {
    const mm = matMulNBitsNode(h.inputs[0]!, [data, scales, headZ], h.outputs[0]!, { K: D, N: V, bits: 4, blockSize: bs }, names.node(`${h.name || 'lm_head'}_MatMulNBits`));
    if (!headZ) mm.inputs.length = 3;
    g.nodes.splice(g.nodes.indexOf(h), 1, mm);
  }
  g.nodes.splice(g.nodes.indexOf(t.transpose), 1);
  g.nodes.unshift(...view.front);
}

/**
 * Rewrite a tied table (`q`: its 4-bit block quantization, canonical [V, D]) in `mode`; `head8`
 * is the 8-bit block quantization for mode `int8`. Modifies `g` in place; the caller adds the
 * com.microsoft opset import. Returns the stored bytes.
 */
export function emitTiedTable(g: Graph, tied: TiedTable, sites: readonly WeightSite[], q: QuantizedWeight, mode: TiedHeadMode, names: NameGenerator, head8?: QuantizedWeight): number {
  const V = q.rows;
  const D = q.cols;
  const bs = q.blockSize;
  const nb = blocksPerRow(q);
  // a float16 table: float16 scales, so the gather and head outputs stay float16
  const floatType = siteFloatType(sites[0]!);
  const floatBytes = siteFloatBytes(sites[0]!);
  const replaceHead = (head: Node, weights: [string, string, string], bits: number, blockSize: number): void => {
    const mm = matMulNBitsNode(head.inputs[0]!, weights, head.outputs[0]!, { K: D, N: V, bits, blockSize }, names.node(`${head.name || 'lm_head'}_MatMulNBits`));
    if (!weights[2]) mm.inputs.length = 3;
    g.nodes.splice(g.nodes.indexOf(head), 1, mm);
  };
  if (mode !== 'shared') {
    let packed: [string, string, string] | undefined;
    for (const s of sites) packed = emitGatherBlockQuantized(s, q, names, packed).packed;
    if (mode === 'float') return tiedBytes(q, mode, floatBytes);
    const h8 = head8!;
    const { B, Z } = packMatMulNBits(h8, 8);
    const nb8 = blocksPerRow(h8);
    const w: [string, string, string] = [names.value(`${tied.table}_head_int8`), names.value(`${tied.table}_head_scales`), names.value(`${tied.table}_head_zero_points`)];
    g.initializers.set(w[0], tensor(B, [V, nb8, h8.blockSize], 'uint8', { backend: 'cpu' }));
    g.initializers.set(w[1], cpuTensor(h8.scales, [V, nb8], floatType));
    g.initializers.set(w[2], tensor(Z, [V * nb8], 'uint8', { backend: 'cpu' }));
    for (const h of tied.heads) replaceHead(h, w, 8, h8.blockSize);
    g.nodes.splice(g.nodes.indexOf(tied.transpose), 1);
    g.initializers.delete(tied.table);
    return tiedBytes(q, mode, floatBytes);
  }
  const { B, Z } = packMatMulNBits(q, 4);
  const data = names.value(`${tied.table}_q4`);
  const scales = names.value(`${tied.table}_scales`);
  g.initializers.set(data, tensor(B, [V, nb, bs / 2], 'uint8', { backend: 'cpu' }));
  g.initializers.set(scales, cpuTensor(q.scales, [V, nb], floatType));
  let headZ = '';
  let gatherZ = '';
  if (!q.symmetric) {
    headZ = names.value(`${tied.table}_zero_points`);
    g.initializers.set(headZ, tensor(Z, [Z.length], 'uint8', { backend: 'cpu' }));
    if (!gatherReadsHeadZeroPoints(nb)) {
      gatherZ = names.value(`${tied.table}_gather_zero_points`);
      g.initializers.set(gatherZ, tensor(Uint8Array.from(q.zeroPoints), [V, nb, 1], 'uint8', { backend: 'cpu' }));
    }
  }
  rewireSharedTable(g, names, { table: tied.table, data, scales, headZ, gatherZ, V, D, nb, blockSize: bs, gathers: sites.map((x) => x.node), heads: tied.heads, transpose: tied.transpose });
  g.initializers.delete(tied.table);
  return tiedBytes(q, mode, floatBytes);
}
