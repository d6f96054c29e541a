/**
 * Weight-only MatMulNBits quantization for models larger than memory. Works on a model read with
 * its external data left in place (see `rewriteModelFile` in @whittle/onnx/node): each MatMul
 * weight is read a band of rows at a time into reused buffers (`nbits_bands.ts`), quantized, and
 * its outputs written to the output data file. Peak memory ≈ the largest weight's packed output
 * plus ~10 MB (a tied token table: a band of rows at a time, plus its scales).
 * MatMul weights are byte-identical to `quantize-weights` with format 'matmulnbits' on the same
 * options. A token table tied with the LM head (Gather + Transpose → MatMul) is quantized once, in
 * 4-bit, for both: GatherBlockQuantized and the head's MatMulNBits share its codes (see
 * `stream_tied.ts`). An untied token table read only by Gathers (Llama's `embed_tokens`) becomes
 * GatherBlockQuantized, a band of rows at a time, with the in-memory pass's bytes
 * (`stream_gather.ts`, which also says which tables stay float).
 *
 * Float16 weights (a float16 model, or the float16 weights of a mixed one) are decoded a band at a
 * time into the same float32 bands (`stream_rows.ts`) and get float16 scales, so their
 * MatMulNBits / GatherBlockQuantized read and write float16 and the graph's types do not change.
 *
 * With `threads` > 1 the bands are quantized on band threads made by `bandThreads` (nbits_pool.ts;
 * `nodeBandThreads` from `@whittle/quantize/node` in Node) while this thread reads and writes:
 * same bytes, a bounded queue of bands in shared memory, the threads terminated when the pass ends.
 */
import { type Model, type RawTensor, type TensorStreamIO, NameGenerator, eliminateDeadCode, isDefaultDomain, throwIfAborted } from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { ensureDomain, matMulNBitsNode } from './emit.js';
import type { NBitsSpec } from './nbits_kernel.js';
import { repackCodes4To2, repackZeroPoints4To2 } from './nbits_repack2.js';
import { BAND_BYTES, type NBitsBands, type NBitsOutputs, nbitsBands } from './nbits_bands.js';
import { type BandThreadFactory, type NBitsBandPool, nbitsBandPool } from './nbits_pool.js';
import { findStreamTiedTables, quantizeTiedTableStreaming } from './stream_tied.js';
import { type StreamGatherTable, findStreamGatherTables, gatherTableBytes, quantizeGatherTableStreaming } from './stream_gather.js';
import { type StreamFloatType, type StreamRows, isStreamFloat, streamRows } from './stream_rows.js';

/** Options of {@link quantizeWeightsStreaming}. */
export interface StreamQuantizeOptions {
  /** Grid bits, 2..8: 2 stored as 2-bit codes (token tables in 4-bit containers), 3 and 4 in 4-bit containers, else 8. Default 4. */
  bits?: number;
  /** Symmetric grid (zero point at the middle). Default true. */
  symmetric?: boolean;
  /** Block size along K: a power of two ≥ 16. Default 32. */
  blockSize?: number;
  /**
   * Float32 working set per slice, in elements: the tied table's slices on one thread (default 2M
   * = 8 MB), and with `threads` > 1 every band (default 512K = 2 MB; at least a block of rows).
   */
  sliceElements?: number;
  /**
   * Threads quantizing bands: 1 (default) runs on this thread; more need `bandThreads`. The bytes
   * are the same for any count.
   */
  threads?: number;
  /** Makes the band threads when `threads` > 1: `nodeBandThreads` of `@whittle/quantize/node` (node:worker_threads). */
  bandThreads?: BandThreadFactory;
  /**
   * A float32 or float16 token table tied with the LM head (read by Gather and, through Transpose,
   * by MatMul): 'shared' quantizes it once for GatherBlockQuantized and the head's MatMulNBits
   * (4-bit grids only, width a multiple of the block size); 'float' leaves it in its float type.
   * Default 'shared'.
   */
  tiedEmbedding?: 'shared' | 'float';
  /**
   * A float32 or float16 token table read only by Gathers of token ids (untied from the LM head,
   * as Llama-style decoders have it): 'block' writes GatherBlockQuantized (4-bit grids only, width
   * a multiple of the block size; learned position tables stay float, see `stream_gather.ts`);
   * 'float' leaves it in its float type. Default 'block'.
   */
  untiedEmbedding?: 'block' | 'float';
  /** Called after each weight. */
  onProgress?: (done: number, total: number, weight: string) => void;
  signal?: AbortSignal;
}

/** One quantized weight. */
export interface StreamQuantizeLayer {
  weight: string;
  /** MatMul B [K, N]; a tied table as the head's B [D, V]; an untied table as stored [V, D]. */
  shape: [number, number];
  /** What reads it now: a MatMul weight, an untied token table, or a tied table shared by both ops. */
  emitted: 'MatMulNBits' | 'GatherBlockQuantized' | 'GatherBlockQuantized+MatMulNBits';
  /** The weight's element type; its scales were written in it (float16 scales for a float16 weight). */
  dataType: 'float32' | 'float16';
  bytesIn: number;
  bytesOut: number;
}

interface Site {
  node: Model['graph']['nodes'][number];
  name: string;
  t: RawTensor;
}

/**
 * Replace every MatMul whose weight B [K, N] is an unloaded float32 or float16 external tensor by
 * com.microsoft MatMulNBits (and token tables by GatherBlockQuantized), streaming through `io`; scales have the weight's type (float16 for a
 * float16 weight, whose MatMul then stays float16). Modifies `model` in place.
 */
export async function quantizeWeightsStreaming(model: Model, io: TensorStreamIO, opts: StreamQuantizeOptions = {}): Promise<StreamQuantizeLayer[]> {
  const bits = opts.bits ?? 4;
  const bs = opts.blockSize ?? 32;
  const symmetric = opts.symmetric ?? true;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new ArgumentError(`quantizeWeightsStreaming: bits must be an integer in 2..8, got ${bits}`);
  if (!Number.isInteger(bs) || bs < 16 || (bs & (bs - 1)) !== 0) throw new ArgumentError(`quantizeWeightsStreaming: blockSize must be a power of two >= 16, got ${bs}`);
  const container = bits <= 4 ? 4 : 8;
  const g = model.graph;
  const sites: Site[] = [];
  for (const node of g.nodes) {
    if (!isDefaultDomain(node.domain) || node.opType !== 'MatMul') continue;
    const name = node.inputs[1] ?? '';
    const t = g.rawInitializers.get(name);
    if (t?.external && isStreamFloat(t) && t.dims.length === 2) sites.push({ node, name, t });
  }
  const tiedMode = opts.tiedEmbedding ?? 'shared';
  if (tiedMode !== 'shared' && tiedMode !== 'float') throw new ArgumentError(`quantizeWeightsStreaming: tiedEmbedding must be 'shared' or 'float', got '${String(tiedMode)}'`);
  const tied = tiedMode === 'shared' && container === 4 ? findStreamTiedTables(g, bs) : [];
  const untiedMode = opts.untiedEmbedding ?? 'block';
  if (untiedMode !== 'block' && untiedMode !== 'float') throw new ArgumentError(`quantizeWeightsStreaming: untiedEmbedding must be 'block' or 'float', got '${String(untiedMode)}'`);
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new ArgumentError(`quantizeWeightsStreaming: threads must be an integer >= 1, got ${threads}`);
  if (threads > 1 && !opts.bandThreads) throw new ArgumentError('quantizeWeightsStreaming: threads > 1 needs bandThreads (nodeBandThreads from @whittle/quantize/node)');
  // as the in-memory pass: written only when smaller than the float table
  const gathers = untiedMode === 'block' && container === 4 ? findStreamGatherTables(g, bs).filter((x) => gatherTableBytes(x.t, bs) < x.t.external!.length) : [];
  const spec = { bits, symmetric, blockSize: bs, container } as const;
  const shapes = sites.map((s) => s.t.dims as [number, number]);
  // MatMul weights are read a band of rows at a time into buffers reused from weight to weight,
  // quantized here or on band threads
  const pool = threads > 1 && sites.length + tied.length + gathers.length > 0 ? nbitsBandPool(spec, { cols: shapes, rows: [...tied, ...gathers].map((t) => t.t.dims as [number, number]) }, threads, opts.bandThreads!, opts.sliceElements ? opts.sliceElements * 4 : BAND_BYTES, opts.signal) : undefined;
  try {
    return await quantizeSites(model, io, opts, { spec, sites, tied, gathers, pool, bands: pool ? undefined : nbitsBands(spec, shapes), rows: streamRows(io, opts.signal) });
  } finally {
    await pool?.close();
  }
}

interface Plan {
  spec: NBitsSpec;
  sites: Site[];
  tied: ReturnType<typeof findStreamTiedTables>;
  gathers: StreamGatherTable[];
  pool: NBitsBandPool | undefined;
  bands: NBitsBands | undefined;
  rows: StreamRows;
}

async function quantizeSites(model: Model, io: TensorStreamIO, opts: StreamQuantizeOptions, { spec, sites, tied, gathers, pool, bands, rows }: Plan): Promise<StreamQuantizeLayer[]> {
  const { blockSize: bs, container } = spec;
  const g = model.graph;
  const names = new NameGenerator(g);
  const emitted = new Map<string, { B: string; S: string; Z: string }>();
  const layers: StreamQuantizeLayer[] = [];
  const total = sites.length + tied.length + gathers.length;
  for (const [i, t] of tied.entries()) {
    throwIfAborted(opts.signal, 'quantizeWeightsStreaming');
    const bytesOut = await quantizeTiedTableStreaming(model, io, t, { ...spec, container: 4 }, names, opts.sliceElements ?? 2 ** 21, rows, pool);
    ensureDomain(model, 'com.microsoft', 1);
    layers.push({ weight: t.name, shape: [t.t.dims[1]!, t.t.dims[0]!], emitted: 'GatherBlockQuantized+MatMulNBits', dataType: t.t.dataType as StreamFloatType, bytesIn: t.t.external!.length, bytesOut });
    opts.onProgress?.(i + 1, total, t.name);
  }
  for (const [i, t] of gathers.entries()) {
    throwIfAborted(opts.signal, 'quantizeWeightsStreaming');
    const bytesOut = await quantizeGatherTableStreaming(model, io, t, { ...spec, container: 4 }, names, opts.sliceElements ?? 2 ** 21, rows, pool);
    ensureDomain(model, 'com.microsoft', 1);
    layers.push({ weight: t.name, shape: t.t.dims as [number, number], emitted: 'GatherBlockQuantized', dataType: t.t.dataType as StreamFloatType, bytesIn: t.t.external!.length, bytesOut });
    opts.onProgress?.(tied.length + i + 1, total, t.name);
  }
  const quantize = (s: Site): NBitsOutputs | Promise<NBitsOutputs> => {
    const [K, N] = s.t.dims as [number, number];
    // float32 bands of B (a float16 B decoded band by band)
    const load = rows.loader(s.t, s.name, N);
    if (!pool) return bands!.quantize(K, N, load);
    // band threads read B themselves when the io can name its file (rewriteModelFile's can)
    return pool.cols(K, N, load, io.dataFile ? { path: io.dataFile(s.t, s.name), offset: s.t.external!.offset, dataType: s.t.dataType as StreamFloatType } : undefined);
  };
  // on threads, the next weight is quantized while this one is written (the pool has two output sets)
  const firsts = sites.filter((s, i) => sites.findIndex((x) => x.name === s.name) === i);
  let ahead: { name: string; q: Promise<NBitsOutputs> } | undefined;
  const quantizeAhead = (after: Site): void => {
    const next = firsts[firsts.indexOf(after) + 1];
    ahead = next ? { name: next.name, q: Promise.resolve(quantize(next)) } : undefined;
    // awaited when its turn comes; until then a failure must not be an unhandled rejection
    ahead?.q.catch(() => undefined);
  };
  for (const [i, s] of sites.entries()) {
    throwIfAborted(opts.signal, 'quantizeWeightsStreaming');
    const [K, N] = s.t.dims as [number, number];
    const nb = Math.ceil(K / bs);
    // a 2-bit grid is quantized in 4-bit containers and written as 2-bit codes
    const stored = spec.bits === 2 ? 2 : container;
    const blob = (bs * stored) / 8;
    const zpBytes = Math.ceil((nb * stored) / 8);
    let out = emitted.get(s.name);
    if (!out) {
      let q: NBitsOutputs;
      if (pool) {
        const p = ahead?.name === s.name ? ahead.q : quantize(s);
        // threads reading their own rows take the next weight's ranges as soon as this one's are
        // all taken (no idle tail); bands read here go through one set of slots, a weight at a time
        if (io.dataFile) quantizeAhead(s);
        q = await p;
        if (!io.dataFile) quantizeAhead(s);
      } else q = quantize(s) as NBitsOutputs;
      const codes = stored === 2 ? repackCodes4To2(q.B.subarray(0, N * nb * ((bs * container) / 8))) : q.B;
      const zps = stored === 2 ? repackZeroPoints4To2(q.zps, N, nb) : q.zps;
      const wB = io.begin();
      wB.write(codes);
      out = { B: names.value(`${s.name}_nbits`), S: names.value(`${s.name}_scales`), Z: names.value(`${s.name}_zero_points`) };
      g.rawInitializers.set(out.B, { dataType: 'uint8', dims: [N, nb, blob], external: wB.finish() });
      // MatMulNBits' scales have A's type: float16 for a float16 weight (its MatMul reads float16)
      const type = s.t.dataType as StreamFloatType;
      const scaleBytes = rows.scaleBytes(q.scales, type);
      const wS = io.begin();
      wS.write(scaleBytes);
      g.rawInitializers.set(out.S, { dataType: type, dims: [N * nb], external: wS.finish() });
      const wZ = io.begin();
      wZ.write(zps);
      g.rawInitializers.set(out.Z, { dataType: 'uint8', dims: [N * zpBytes], external: wZ.finish() });
      emitted.set(s.name, out);
      layers.push({ weight: s.name, shape: [K, N], emitted: 'MatMulNBits', dataType: type, bytesIn: s.t.external!.length, bytesOut: N * nb * blob + scaleBytes.byteLength + zps.length });
    }
    ensureDomain(model, 'com.microsoft', 1);
    const mm = matMulNBitsNode(s.node.inputs[0]!, [out.B, out.S, out.Z], s.node.outputs[0]!, { K, N, bits: stored, blockSize: bs }, names.node(`${s.node.name || s.name}_MatMulNBits`));
    g.nodes.splice(g.nodes.indexOf(s.node), 1, mm);
    opts.onProgress?.(tied.length + gathers.length + i + 1, total, s.name);
  }
  eliminateDeadCode(g);
  return layers;
}
