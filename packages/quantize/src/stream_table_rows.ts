/**
 * A streamed token table [V, D] quantized row by row for the 4-bit gather layouts: its rows are
 * contiguous in the file and are the rows the codes are blocked along, so a band of rows is read,
 * quantized with no transpose and its packed codes written at a time; memory is one band plus the
 * scales and zero points (V·D/bs each), not the table.
 */
import type { RawTensor, TensorStreamIO } from '@whittle/graph';
import { type NBitsSpec, quantizeRowsNBits } from './nbits_kernel.js';
import type { NBitsBandPool } from './nbits_pool.js';
import type { StreamRows } from './stream_rows.js';

/** The written codes of a table and its scales / packed zero points, still in memory. */
export interface StreamedTableRows {
  /** Packed codes [V, D/bs, bs/2] (= [V, D/2]), written through the io. */
  data: NonNullable<RawTensor['external']>;
  /** Float32 scales [V, D/bs]. */
  scales: Float32Array;
  /** Zero points [V, ceil((D/bs)/2)], two 4-bit values a byte (low nibble first). */
  zps: Uint8Array;
}

/**
 * Quantize the unloaded table `t` ([V, D], D a multiple of `spec.blockSize`, 4-bit container)
 * `sliceElements` floats at a time on this thread, or on the band threads of `pool` (same bytes),
 * writing its packed codes through `io`.
 */
export async function quantizeTableRows(io: TensorStreamIO, t: RawTensor, name: string, spec: NBitsSpec, sliceElements: number, rows: StreamRows, pool?: NBitsBandPool): Promise<StreamedTableRows> {
  const [V, D] = t.dims as [number, number];
  const nb = D / spec.blockSize;
  const blob = spec.blockSize / 2;
  // float32 bands of rows (a float16 table decoded band by band)
  const load = rows.loader(t, name, D);
  const w = io.begin();
  if (pool) {
    const { scales, zps } = await pool.rows(V, D, load, (packed) => w.write(packed));
    return { data: w.finish(), scales, zps };
  }
  const scales = new Float32Array(V * nb);
  const zps = new Uint8Array(V * Math.ceil(nb / 2));
  const bandRows = Math.max(1, Math.min(V, Math.floor(sliceElements / D)));
  const packed = new Uint8Array(bandRows * nb * blob);
  const band = new Float32Array(bandRows * D);
  const bandBytes = new Uint8Array(band.buffer);
  for (let v0 = 0; v0 < V; v0 += bandRows) {
    const r = Math.min(bandRows, V - v0);
    load(v0, r, bandBytes.subarray(0, r * D * 4));
    quantizeRowsNBits(band, D, v0, r, spec, packed, scales, zps);
    w.write(packed.subarray(0, r * nb * blob));
  }
  return { data: w.finish(), scales, zps };
}
