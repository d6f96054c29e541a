/**
 * The tied token table of a decoder (a float32 or float16 [V, D] table read by Gather and, through a
 * Transpose, by the LM head's MatMul) in streaming int4: the 'shared' layout of `tied_head.ts`
 * — one packed [V, D/bs, bs/2] code initializer and one [V, D/bs] scale initializer read by the
 * head's MatMulNBits and by GatherBlockQuantized — written piecewise through a TensorStreamIO.
 * The table's rows are MatMulNBits' columns already (B = tableᵀ) and contiguous in the file, so a
 * band of rows is read, quantized with no transpose and written at a time; memory is one band plus
 * the scales (V·D/bs floats), not the table. A float16 table is decoded a band at a time and gets
 * float16 scales, so the gather and the head output float16 as the table's readers did.
 */
import { type Graph, type Model, type NameGenerator, type Node, type RawTensor, type TensorStreamIO, getInt, getInts } from '@whittle/graph';
import type { NBitsSpec } from './nbits_kernel.js';
import type { NBitsBandPool } from './nbits_pool.js';
import { gatherReadsHeadZeroPoints, rewireSharedTable } from './tied_head.js';
import { readersOf } from './write_weights.js';
import { type StreamFloatType, type StreamRows, isStreamFloat } from './stream_rows.js';
import { quantizeTableRows } from './stream_table_rows.js';

/** An unloaded float32 or float16 table [V, D] read by Gathers (axis 0) and one Transpose(perm [1, 0]) feeding MatMul B inputs. */
export interface StreamTiedTable {
  name: string;
  t: RawTensor;
  gathers: Node[];
  transpose: Node;
  heads: Node[];
}

/** The tied tables of `g` (main graph) whose width is a multiple of `blockSize`. */
export function findStreamTiedTables(g: Graph, blockSize: number): StreamTiedTable[] {
  const out: StreamTiedTable[] = [];
  for (const [name, t] of g.rawInitializers) {
    if (!t.external || !isStreamFloat(t) || t.dims.length !== 2 || t.dims[1]! % blockSize !== 0) continue;
    const r = readersOf(g, name);
    if (r.outputs) continue;
    const gathers = r.nodes.filter((x) => x.node.opType === 'Gather' && x.input === 0 && (getInt(x.node, 'axis') ?? 0) === 0).map((x) => x.node);
    const others = r.nodes.filter((x) => !gathers.includes(x.node));
    if (!gathers.length || others.length !== 1 || others[0]!.node.opType !== 'Transpose' || others[0]!.input !== 0) continue;
    const transpose = others[0]!.node;
    const perm = getInts(transpose, 'perm') ?? [];
    if (perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) continue;
    const tr = readersOf(g, transpose.outputs[0]!);
    if (tr.outputs || !tr.nodes.length || !tr.nodes.every((x) => x.node.opType === 'MatMul' && x.input === 1)) continue;
    out.push({ name, t, gathers, transpose, heads: tr.nodes.map((x) => x.node) });
  }
  return out;
}

/**
 * Quantize `tied` (4-bit container) through `io` into the shared layout, `sliceElements` floats
 * of it at a time (or on the band threads of `pool`: same bytes), and rewire its Gathers and
 * heads. Rows are read by `rows` (which checks the pass's abort signal); the scales are written
 * in the table's type. Returns the bytes written.
 */
export async function quantizeTiedTableStreaming(model: Model, io: TensorStreamIO, tied: StreamTiedTable, spec: NBitsSpec, names: NameGenerator, sliceElements: number, rows: StreamRows, pool?: NBitsBandPool): Promise<number> {
  const g = model.graph;
  const [V, D] = tied.t.dims as [number, number];
  const bs = spec.blockSize;
  const nb = D / bs;
  const blob = bs / 2;
  const zpBytes = Math.ceil(nb / 2);
  const { data: codes, scales, zps } = await quantizeTableRows(io, tied.t, tied.name, spec, sliceElements, rows, pool);
  const data = names.value(`${tied.name}_q4`);
  const scaleName = names.value(`${tied.name}_scales`);
  g.rawInitializers.set(data, { dataType: 'uint8', dims: [V, nb, blob], external: codes });
  // the scales' type is the gathered rows' and the head's output type
  const type = tied.t.dataType as StreamFloatType;
  const scaleBytes = rows.scaleBytes(scales, type);
  const wS = io.begin();
  wS.write(scaleBytes);
  g.rawInitializers.set(scaleName, { dataType: type, dims: [V, nb], external: wS.finish() });
  let written = V * nb * blob + scaleBytes.byteLength;
  let headZ = '';
  let gatherZ = '';
  if (!spec.symmetric) {
    // MatMulNBits packs zero points two per byte; the gathers read those (reshaped) or, for an odd block count, one per block
    headZ = names.value(`${tied.name}_zero_points`);
    const wZ = io.begin();
    wZ.write(zps);
    g.rawInitializers.set(headZ, { dataType: 'uint8', dims: [zps.length], external: wZ.finish() });
    written += zps.length;
    if (!gatherReadsHeadZeroPoints(nb)) {
      const unpacked = new Uint8Array(V * nb);
      for (let v = 0; v < V; v++) for (let b = 0; b < nb; b++) unpacked[v * nb + b] = (zps[v * zpBytes + (b >> 1)]! >> ((b & 1) * 4)) & 15;
      gatherZ = names.value(`${tied.name}_gather_zero_points`);
      const wG = io.begin();
      wG.write(unpacked);
      g.rawInitializers.set(gatherZ, { dataType: 'uint8', dims: [V, nb, 1], external: wG.finish() });
      written += unpacked.length;
    }
  }
  rewireSharedTable(g, names, { table: tied.name, data, scales: scaleName, headZ, gatherZ, V, D, nb, blockSize: bs, gathers: tied.gathers, heads: tied.heads, transpose: tied.transpose });
  g.rawInitializers.delete(tied.name);
  return written;
}
