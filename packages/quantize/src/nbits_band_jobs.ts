/**
 * The thread side of parallel streaming MatMulNBits (nbits_pool.ts is the calling side): jobs a
 * worker thread runs on bands of float32 rows in shared memory. A column job quantizes a band of
 * rows of B [K, N] with the band kernel into its own arena and scatters the band's blocks into the
 * weight's shared outputs; a row job quantizes rows of a tied token table (B's columns) into the
 * band slot's output area and the shared scales / zero points. Every block is computed by the
 * same kernel call as on one thread, so the bytes do not depend on the number of threads.
 * Browser-safe: a web worker can run {@link nbitsJobRunner} as well as a node worker thread.
 */
import { bandArena } from './nbits_bands.js';
import { type NBitsSpec, quantizeRowsNBits } from './nbits_kernel.js';
import type { WasmBandArena } from './nbits_wasm.js';

/** Sent once to each thread: the spec and the shared buffers of a pass. */
export interface NBitsInitJob {
  type: 'init';
  spec: NBitsSpec;
  /** Band slots, `slotBytes` each: float32 rows from 0, a row job's packed output from `inBytes`. */
  slots: SharedArrayBuffer;
  slotBytes: number;
  inBytes: number;
  /** Rows of a column band and the widest N (sizes the thread's arena). */
  colRows: number;
  maxN: number;
  /** Outputs of the MatMul weight being quantized: packed [N, nb, blob], scales [N, nb], zero points [N, zpBytes]. */
  outB: SharedArrayBuffer;
  outS: SharedArrayBuffer;
  outZ: SharedArrayBuffer;
  /** Scales [V, nb] and zero points [V, zpBytes] of the tied table being quantized. */
  rowS: SharedArrayBuffer;
  rowZ: SharedArrayBuffer;
}

/** Rows b0 * blockSize .. + rows - 1 of B [K, N] (nb blocks per column) in `slot`. */
export interface NBitsColsJob {
  type: 'cols';
  id: number;
  slot: number;
  rows: number;
  N: number;
  nb: number;
  b0: number;
}

/** Rows v0 .. v0 + rows - 1 of a tied table [V, D] (columns of B = tableᵀ, K = D) in `slot`. */
export interface NBitsRowsJob {
  type: 'rows';
  id: number;
  slot: number;
  rows: number;
  D: number;
  v0: number;
}

/** A message to a band thread. */
export type NBitsJob = NBitsInitJob | NBitsColsJob | NBitsRowsJob;

/** A thread's answer to a job: done, or the error it threw. */
export interface NBitsReply {
  id: number;
  error?: { name: string; message: string };
}

interface ThreadState {
  job: NBitsInitJob;
  arena: WasmBandArena;
  slots: Uint8Array;
  // 32-bit views so that the scatter copies words, not bytes, and never round-trips floats (NaN bits)
  aB: Int32Array;
  aS: Int32Array;
  outB: Int32Array;
  outS: Int32Array;
  outZ: Uint8Array;
  rowS: Float32Array;
  rowZ: Uint8Array;
}

/**
 * A job runner for one thread: feed it every message; it returns the reply to post back (none for
 * 'init'). Errors become replies, so the caller can surface them.
 */
export function nbitsJobRunner(): (job: NBitsJob) => NBitsReply | undefined {
  let st: ThreadState | undefined;
  return (job) => {
    if (job.type === 'init') {
      st = initThread(job);
      return undefined;
    }
    try {
      if (!st) throw new Error('band job before init');
      if (job.type === 'cols') runCols(st, job);
      else runRows(st, job);
      return { id: job.id };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      return { id: job.id, error: { name: err.name, message: err.message } };
    }
  };
}

function initThread(job: NBitsInitJob): ThreadState {
  const { blockSize: bs, container } = job.spec;
  const blob = (bs * container) / 8;
  // a band's blocks plus one: a band starting at an odd block is laid out one block late (see runCols)
  const nbL = job.colRows / bs + 1;
  const arena = bandArena(job.spec, job.colRows * job.maxN * 4, job.maxN * nbL * blob, job.maxN * nbL * 4, job.maxN * Math.ceil((nbL * container) / 8));
  return {
    job,
    arena,
    slots: new Uint8Array(job.slots),
    aB: new Int32Array(arena.B.buffer, arena.B.byteOffset, arena.B.length >> 2),
    aS: new Int32Array(arena.scales.buffer, arena.scales.byteOffset, arena.scales.length),
    outB: new Int32Array(job.outB),
    outS: new Int32Array(job.outS),
    outZ: new Uint8Array(job.outZ),
    rowS: new Float32Array(job.rowS),
    rowZ: new Uint8Array(job.rowZ),
  };
}

/**
 * Quantize a column band into the thread's arena as a weight of its own (blocks 0 ..), then copy
 * its blocks to their place in the shared outputs. In 4-bit containers two blocks share a zero-point
 * byte: a band starting at an odd block is computed one block late (so its bytes line up with the
 * weight's) and the two bytes a band may share with its neighbours are OR-ed in atomically (the
 * caller zeroes the zero points first).
 */
function runCols(st: ThreadState, job: NBitsColsJob): void {
  const { bits, symmetric, blockSize: bs, container } = st.job.spec;
  const { rows, N, nb, b0 } = job;
  const { arena, aB, aS, outB, outS, outZ } = st;
  const p = container === 4 ? b0 & 1 : 0;
  const nbBand = Math.ceil(rows / bs);
  const nbL = nbBand + p;
  const zpL = Math.ceil((nbL * container) / 8);
  const zpBytes = Math.ceil((nb * container) / 8);
  const start = job.slot * st.job.slotBytes;
  arena.band.set(st.slots.subarray(start, start + rows * N * 4));
  arena.zps.fill(0, 0, N * zpL);
  arena.run(rows, N, bits, symmetric, bs, container, nbL, p);
  const w = (bs * container) / 32;
  const words = nbBand * w;
  const aZ = arena.zps;
  for (let n = 0; n < N; n++) {
    const sB = (n * nbL + p) * w;
    const dB = (n * nb + b0) * w;
    for (let i = 0; i < words; i++) outB[dB + i] = aB[sB + i]!;
    const sS = n * nbL + p;
    const dS = n * nb + b0;
    for (let i = 0; i < nbBand; i++) outS[dS + i] = aS[sS + i]!;
    const sZ = n * zpL;
    if (container === 8) {
      const dZ = n * zpBytes + b0;
      for (let i = 0; i < nbBand; i++) outZ[dZ + i] = aZ[sZ + i]!;
    } else {
      const dZ = n * zpBytes + (b0 >> 1);
      for (let j = 0; j < zpL; j++) {
        if ((j === 0 && p) || (j === zpL - 1 && nbL & 1)) Atomics.or(outZ, dZ + j, aZ[sZ + j]!);
        else outZ[dZ + j] = aZ[sZ + j]!;
      }
    }
  }
}

/** Quantize rows of a tied table: packed codes after the rows in the slot, scales and zero points shared. */
function runRows(st: ThreadState, job: NBitsRowsJob): void {
  const { blockSize: bs, container } = st.job.spec;
  const { rows, D, v0 } = job;
  const start = job.slot * st.job.slotBytes;
  const tile = new Float32Array(st.job.slots, start, rows * D);
  const out = new Uint8Array(st.job.slots, start + st.job.inBytes, rows * (D / bs) * ((bs * container) / 8));
  quantizeRowsNBits(tile, D, v0, rows, st.job.spec, out, st.rowS, st.rowZ);
}
