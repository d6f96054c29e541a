/**
 * Untied token tables in streaming int4: a float32 or float16 table [V, D] read only by Gathers
 * (axis 0) of token ids becomes com.microsoft GatherBlockQuantized with the bytes the in-memory
 * `quantize-weights` pass (format 'matmulnbits') writes for it — packed codes [V, D/2] (low nibble
 * first), scales [V, D/bs] in the table's type, zero points [V, ceil((D/bs)/2)] — read a band of
 * rows at a time (`stream_table_rows.ts`).
 *
 * Tables that stay float: grids above 4 bits (GatherBlockQuantized holds 4-bit codes; the
 * in-memory pass writes DequantizeLinear there), widths not a multiple of the block size, tables
 * also read by other nodes or a graph output (tied tables are `stream_tied.ts`'s), Gathers on
 * another axis or inside subgraphs, and tables whose indices are not an int32/int64 graph input,
 * or are `position_ids`: learned position tables (GPT-2's `wpe`) are small and stay float, as
 * they did before untied tables were streamed.
 */
import { type Graph, type Model, type NameGenerator, type Node, type RawTensor, type TensorStreamIO, createNode, getInt, isDefaultDomain } from '@whittle/graph';
import type { NBitsSpec } from './nbits_kernel.js';
import type { NBitsBandPool } from './nbits_pool.js';
import { readersOf } from './write_weights.js';
import { type StreamFloatType, type StreamRows, isStreamFloat, streamElemBytes } from './stream_rows.js';
import { quantizeTableRows } from './stream_table_rows.js';

/** An unloaded float32 or float16 table [V, D] read only by Gathers (axis 0) of token ids. */
export interface StreamGatherTable {
  name: string;
  t: RawTensor;
  gathers: Node[];
}

/** Graph inputs that index learned position tables, which stay float. */
const POSITION_INPUTS = new Set(['position_ids']);

/** The untied token tables of `g` (main graph) that GatherBlockQuantized can hold with blocks of `blockSize`. */
export function findStreamGatherTables(g: Graph, blockSize: number): StreamGatherTable[] {
  const ids = new Set(g.inputs.filter((i) => i.type?.kind === 'tensor' && (i.type.elemType === 'int64' || i.type.elemType === 'int32') && !POSITION_INPUTS.has(i.name)).map((i) => i.name));
  const out: StreamGatherTable[] = [];
  for (const [name, t] of g.rawInitializers) {
    if (!t.external || !isStreamFloat(t) || t.dims.length !== 2 || t.dims[1]! % blockSize !== 0) continue;
    const r = readersOf(g, name);
    if (r.outputs || !r.nodes.length) continue;
    const gathers = r.nodes.map((x) => x.node);
    const plain = r.nodes.every((x) => x.input === 0 && isDefaultDomain(x.node.domain) && x.node.opType === 'Gather' && (getInt(x.node, 'axis') ?? 0) === 0 && ids.has(x.node.inputs[1] ?? '') && g.nodes.includes(x.node));
    if (plain) out.push({ name, t, gathers });
  }
  return out;
}

/** Stored bytes of `table` as GatherBlockQuantized (scales in the table's type). */
export function gatherTableBytes(t: RawTensor, blockSize: number): number {
  const [V, D] = t.dims as [number, number];
  const nb = D / blockSize;
  return (V * D) / 2 + V * nb * streamElemBytes(t) + V * Math.ceil(nb / 2);
}

/**
 * Quantize `table` (4-bit container) through `io`, `sliceElements` floats of it at a time (or on
 * the band threads of `pool`: same bytes), and replace its Gathers by GatherBlockQuantized. The
 * caller adds the com.microsoft opset import. Returns the bytes written.
 */
export async function quantizeGatherTableStreaming(model: Model, io: TensorStreamIO, table: StreamGatherTable, spec: NBitsSpec, names: NameGenerator, sliceElements: number, rows: StreamRows, pool?: NBitsBandPool): Promise<number> {
  const g = model.graph;
  const [V, D] = table.t.dims as [number, number];
  const bs = spec.blockSize;
  const nb = D / bs;
  const { data: codes, scales, zps } = await quantizeTableRows(io, table.t, table.name, spec, sliceElements, rows, pool);
  // named and shaped as the in-memory pass's emitGatherBlockQuantized writes them
  const data = names.value(`${table.name}_q4`);
  const scaleName = names.value(`${table.name}_scales`);
  const zpName = names.value(`${table.name}_zero_points`);
  g.rawInitializers.set(data, { dataType: 'uint8', dims: [V, D / 2], external: codes });
  // the scales' type is the gathered rows' type: float16 for a float16 table
  const type = table.t.dataType as StreamFloatType;
  const scaleBytes = rows.scaleBytes(scales, type);
  const wS = io.begin();
  wS.write(scaleBytes);
  g.rawInitializers.set(scaleName, { dataType: type, dims: [V, nb], external: wS.finish() });
  // GatherBlockQuantized takes zero points even for a symmetric grid (the middle code, 8)
  const wZ = io.begin();
  wZ.write(zps);
  g.rawInitializers.set(zpName, { dataType: 'uint8', dims: [V, Math.ceil(nb / 2)], external: wZ.finish() });
  for (const n of table.gathers) {
    const node = createNode(
      'GatherBlockQuantized',
      [data, n.inputs[1]!, scaleName, zpName],
      [...n.outputs],
      { gather_axis: { type: 'int', value: 0 }, quantize_axis: { type: 'int', value: 1 }, block_size: { type: 'int', value: bs }, bits: { type: 'int', value: 4 } },
      { name: names.node(`${n.name || table.name}_GatherBlockQuantized`), domain: 'com.microsoft' },
    );
    g.nodes.splice(g.nodes.indexOf(n), 1, node);
  }
  g.rawInitializers.delete(table.name);
  return (V * D) / 2 + scaleBytes.byteLength + zps.length;
}
