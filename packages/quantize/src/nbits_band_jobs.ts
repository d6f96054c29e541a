/**
 * The thread side of parallel streaming MatMulNBits (nbits_pool.ts is the calling side): jobs a
 * worker thread runs on bands of float32 rows in shared memory. MatMul weights are split by
 * columns: each thread quantizes its own range of columns of every band into its own arena, laid
 * out as the weight's outputs (the kernel writes every block in place, as on one thread), and
 * copies the range — one contiguous piece of each output — to the shared outputs at the end of the
 * weight. Rows of a tied token table (B's columns) go to one thread per band, its packed codes
 * into the band's slot. Every block is computed by the same kernel as on one thread, so the bytes
 * do not depend on the number of threads. Browser-safe: a web worker can run
 * {@link nbitsJobRunner} as well as a node worker thread.
 */
import { bandArena } from './nbits_arena.js';
import { decodeFloat16Bits } from '@whittle/tensor/float16';
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
  /** Rows of a column band, the thread's band bytes, and the widest column range and output sizes of one thread (size its arena). */
  colRows: number;
  bandBytes: number;
  partN: number;
  partB: number;
  partS: number;
  partZ: number;
  /**
   * Two sets of outputs of a MatMul weight (one being filled while the other is written out):
   * packed [N, nb, blob], scales [N, nb], zero points [N, zpBytes].
   */
  outB: SharedArrayBuffer[];
  outS: SharedArrayBuffer[];
  outZ: SharedArrayBuffer[];
  /** Scales [V, nb] and zero points [V, zpBytes] of the tied table being quantized. */
  rowS: SharedArrayBuffer;
  rowZ: SharedArrayBuffer;
}

/** Columns n0 .. n1 - 1 of rows b0 * blockSize .. + rows - 1 of B [K, N] (nb blocks per column) in `slot`. */
export interface NBitsColsJob {
  type: 'cols';
  id: number;
  slot: number;
  rows: number;
  N: number;
  nb: number;
  b0: number;
  n0: number;
  n1: number;
}

/**
 * Blocks blk0 .. blk1 - 1 of every column of B [K, N] (nb blocks per column), read by the thread
 * itself from `path` (B's bytes from `offset`) a band of `rows` rows at a time, then copied to the
 * shared outputs. blk0 is even in 4-bit containers, so threads never share a zero-point byte.
 */
export interface NBitsPartJob {
  type: 'part';
  id: number;
  path: string;
  offset: number;
  /** B is stored as float16: each band is read as half floats and decoded to float32. */
  float16?: boolean;
  K: number;
  N: number;
  nb: number;
  blk0: number;
  blk1: number;
  rows: number;
  /** The output set to fill (0 or 1). */
  buf: number;
}

/** The end of a weight: copy the outputs of columns n0 .. n1 - 1 to the shared outputs. */
export interface NBitsFlushJob {
  type: 'flush';
  id: number;
  buf: number;
  N: number;
  nb: number;
  n0: number;
  n1: number;
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
export type NBitsJob = NBitsInitJob | NBitsColsJob | NBitsFlushJob | NBitsPartJob | NBitsRowsJob;

/** File reading for 'part' jobs, given by the thread's host (node:fs in `@whittle/quantize/node`). */
export interface BandFiles {
  /** Open `path` for reading; `read` fills all of `into` from byte `offset` (or throws). */
  open(path: string): { read(into: Uint8Array, offset: number): void; close(): void };
}

/** A thread's answer to a job: done, or the error it threw. */
export interface NBitsReply {
  id: number;
  error?: { name: string; message: string };
}

interface ThreadState {
  job: NBitsInitJob;
  arena: WasmBandArena;
  slots: Float32Array;
  outs: { B: Uint8Array; S: Float32Array; Z: Uint8Array; Bw: Int32Array; Sw: Int32Array }[];
  rowS: Float32Array;
  rowZ: Uint8Array;
  /** Half floats of one band of a float16 weight (made at its first 'part' job). */
  half?: Uint16Array;
}

/**
 * A job runner for one thread: feed it every message; it returns the reply to post back (none for
 * 'init'). Errors become replies, so the caller can surface them.
 */
export function nbitsJobRunner(files?: BandFiles): (job: NBitsJob) => NBitsReply | undefined {
  let st: ThreadState | undefined;
  return (job) => {
    if (job.type === 'init') {
      st = initThread(job);
      return undefined;
    }
    try {
      if (!st) throw new Error('band job before init');
      if (job.type === 'cols') runCols(st, job);
      else if (job.type === 'flush') flushCols(st, job);
      else if (job.type === 'part') {
        if (!files) throw new Error('this band thread cannot read files');
        runPart(st, job, files);
      }
      else runRows(st, job);
      return { id: job.id };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      return { id: job.id, error: { name: err.name, message: err.message } };
    }
  };
}

function initThread(job: NBitsInitJob): ThreadState {
  const arena = bandArena(job.spec, job.bandBytes, job.partB, job.partS, job.partZ);
  return {
    job,
    arena,
    slots: new Float32Array(job.slots),
    outs: job.outB.map((b, i) => ({ B: new Uint8Array(b), S: new Float32Array(job.outS[i]!), Z: new Uint8Array(job.outZ[i]!), Bw: new Int32Array(b), Sw: new Int32Array(job.outS[i]!) })),
    rowS: new Float32Array(job.rowS),
    rowZ: new Uint8Array(job.rowZ),
  };
}

/**
 * This thread's columns of a band, gathered into the arena's band buffer, quantized into the
 * arena's outputs as blocks b0 .. of a weight [K, n1 - n0] (zero points are OR-ed into bytes
 * zeroed at the weight's first band).
 */
function runCols(st: ThreadState, job: NBitsColsJob): void {
  const { bits, symmetric, blockSize: bs, container } = st.job.spec;
  const { rows, N, nb, b0, n0, n1 } = job;
  const w = n1 - n0;
  const { arena } = st;
  const band = new Float32Array(arena.band.buffer, arena.band.byteOffset, rows * w);
  const start = (job.slot * st.job.slotBytes) / 4;
  if (w === N) band.set(st.slots.subarray(start, start + rows * N));
  else for (let k = 0; k < rows; k++) band.set(st.slots.subarray(start + k * N + n0, start + k * N + n1), k * w);
  if (b0 === 0) arena.zps.fill(0, 0, w * Math.ceil((nb * container) / 8));
  arena.run(rows, w, bits, symmetric, bs, container, nb, b0);
}

/**
 * This thread's blocks of a weight: bands of rows read from the file into the arena, quantized as
 * blocks of a weight of blk1 - blk0 blocks per column, then each column's run of blocks copied to
 * its place in the shared outputs.
 */
function runPart(st: ThreadState, job: NBitsPartJob, files: BandFiles): void {
  const { bits, symmetric, blockSize: bs, container } = st.job.spec;
  const { K, N, nb, blk0, blk1, rows } = job;
  const blob = (bs * container) / 8;
  const nbL = blk1 - blk0;
  const zpL = Math.ceil((nbL * container) / 8);
  const zpBytes = Math.ceil((nb * container) / 8);
  const { arena } = st;
  const end = Math.min(K, blk1 * bs);
  arena.zps.fill(0, 0, N * zpL);
  const f = files.open(job.path);
  try {
    for (let k0 = blk0 * bs; k0 < end; k0 += rows) {
      const r = Math.min(rows, end - k0);
      if (job.float16) {
        // half floats into a band-sized buffer, decoded into the kernel's float32 band
        const n = r * N;
        st.half ??= new Uint16Array(st.job.bandBytes / 4);
        const halves = st.half.subarray(0, n);
        f.read(new Uint8Array(halves.buffer, 0, n * 2), job.offset + k0 * N * 2);
        decodeFloat16Bits(halves, new Uint32Array(arena.band.buffer, arena.band.byteOffset, n));
      } else f.read(arena.band.subarray(0, r * N * 4), job.offset + k0 * N * 4);
      arena.run(r, N, bits, symmetric, bs, container, nbL, k0 / bs - blk0);
    }
  } finally {
    f.close();
  }
  // word loops, not a subarray per column (N of them per output); 32-bit words never round-trip
  // a float, so a NaN scale keeps its bits
  const aB = new Int32Array(arena.B.buffer, arena.B.byteOffset, (N * nbL * blob) >> 2);
  const aS = new Int32Array(arena.scales.buffer, arena.scales.byteOffset, N * nbL);
  const aZ = arena.zps;
  const { Bw: outBw, Sw: outSw, Z: outZ } = st.outs[job.buf]!;
  const w = blob >> 2;
  const runB = nbL * w;
  const z0 = (blk0 * container) / 8;
  for (let n = 0; n < N; n++) {
    const sB = n * runB;
    const dB = (n * nb + blk0) * w;
    for (let i = 0; i < runB; i++) outBw[dB + i] = aB[sB + i]!;
    const sS = n * nbL;
    const dS = n * nb + blk0;
    for (let i = 0; i < nbL; i++) outSw[dS + i] = aS[sS + i]!;
    const sZ = n * zpL;
    const dZ = n * zpBytes + z0;
    for (let i = 0; i < zpL; i++) outZ[dZ + i] = aZ[sZ + i]!;
  }
}

/** Copy this thread's columns of the finished weight: one contiguous piece of each output. */
function flushCols(st: ThreadState, job: NBitsFlushJob): void {
  const { blockSize: bs, container } = st.job.spec;
  const { nb, n0, n1 } = job;
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  const w = n1 - n0;
  const { arena } = st;
  // same-type typed array copies move bytes (a NaN scale keeps its bits)
  const out = st.outs[job.buf]!;
  out.B.set(arena.B.subarray(0, w * nb * blob), n0 * nb * blob);
  out.S.set(arena.scales.subarray(0, w * nb), n0 * nb);
  out.Z.set(arena.zps.subarray(0, w * zpBytes), n0 * zpBytes);
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
