/**
 * Parallel bands for streaming MatMulNBits: the calling thread reads bands of rows into a few
 * shared slots (a bounded queue: two per thread) and band threads quantize them
 * (nbits_band_jobs.ts). Memory is the slots plus one set of outputs for the largest weight, as on
 * one thread; no thread holds a whole float32 weight. Threads are made by an injected
 * {@link BandThreadFactory} — `nodeBandThreads` from `@whittle/quantize/node` (node:worker_threads)
 * — so this file stays browser-safe. Bytes equal the one-thread path for any thread count.
 */
import { PassAbortedError } from '@whittle/graph';
import { ArgumentError, WhittleError } from '@whittle/tensor';
import type { NBitsColsJob, NBitsFlushJob, NBitsJob, NBitsPartJob, NBitsReply, NBitsRowsJob } from './nbits_band_jobs.js';
import { bandRows } from './nbits_arena.js';
import type { NBitsOutputs } from './nbits_bands.js';
import type { NBitsSpec } from './nbits_kernel.js';

export type { NBitsJob, NBitsReply } from './nbits_band_jobs.js';

/** A band thread failed (threw, crashed or could not start); the pass stops and writes nothing. */
export class QuantizeWorkerError extends WhittleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_QUANTIZE_WORKER', message, options);
  }
}

/** One band thread, as the pool sees it. */
export interface BandThread {
  /** Send a job (the thread answers through the factory's `reply`). */
  post(job: NBitsJob): void;
  /** Stop the thread; jobs not answered are dropped. */
  terminate(): Promise<void>;
}

/**
 * Makes one band thread that runs `nbitsJobRunner` (from nbits_band_jobs.ts) on every message and
 * posts its replies to `reply`; `fail` reports a thread that crashed or exited on its own.
 */
export type BandThreadFactory = (handlers: { reply(r: NBitsReply): void; fail(e: Error): void }) => BandThread;

/** Band quantization on threads; see {@link nbitsBandPool}. */
export interface NBitsBandPool {
  /**
   * Like `nbitsBands(..).quantize`, with two output sets used in turn: outputs are views valid
   * until the call after next, so the next weight may be quantized while these are written. With `file` (B's
   * bytes are at `offset` in the file at `path`, float32 or — `dataType` 'float16' — half floats the
   * threads decode), the threads read their rows themselves and `load` is not called; without it,
   * bands are read here through `load` (float32 bytes) and shared.
   */
  cols(K: number, N: number, load: (k0: number, rows: number, into: Uint8Array) => void, file?: { path: string; offset: number; dataType?: 'float32' | 'float16' }): Promise<NBitsOutputs>;
  /**
   * A tied table [V, D] (B = tableᵀ): `load(v0, rows, into)` fills rows of the table, `write`
   * receives the packed codes of each band in order; scales [V, nb] and zero points [V, zpBytes]
   * are returned (views valid until the next call).
   */
  rows(V: number, D: number, load: (v0: number, rows: number, into: Uint8Array) => void, write: (packed: Uint8Array) => void): Promise<{ scales: Float32Array; zps: Uint8Array }>;
  /** Terminate the threads (always call it; idempotent). */
  close(): Promise<void>;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

/** Columns per thread of a weight N wide: whole groups of 16 (the SIMD kernel's width). */
const partWidth = (N: number, threads: number): number => Math.ceil(N / threads / 16) * 16;

/** Ranges of blocks per thread and weight when the threads read the weights themselves. */
const PARTS_PER_THREAD = 4;

/** Blocks per range of a weight with nb blocks per column: even in 4-bit containers (no shared zero-point byte) when split into `parts`. */
const partBlocks = (nb: number, parts: number, container: number): number => (container === 4 ? Math.ceil(nb / parts / 2) * 2 : Math.ceil(nb / parts));

/**
 * A pool of `threads` band threads for MatMul weights of shapes `cols` ([K, N]) and tied tables of
 * shapes `rows` ([V, D]), bands of about `bandBytes` of float32. An abort of `signal`, a thread's
 * error or exit rejects what is pending and terminates every thread.
 */
export function nbitsBandPool(spec: NBitsSpec, shapes: { cols: readonly (readonly [number, number])[]; rows: readonly (readonly [number, number])[] }, threads: number, factory: BandThreadFactory, bandBytes: number, signal?: AbortSignal): NBitsBandPool {
  if (!Number.isInteger(threads) || threads < 1) throw new ArgumentError(`nbitsBandPool: threads must be an integer >= 1, got ${threads}`);
  const { blockSize: bs, container } = spec;
  const blob = (bs * container) / 8;
  const maxN = Math.max(0, ...shapes.cols.map((s) => s[1]));
  const colRows = bandRows(bs, maxN, bandBytes);
  let inBytes = colRows * maxN * 4;
  let outBytes = 0;
  let bB = 0, sB = 0, zB = 0, rS = 0, rZ = 0;
  let partN = 0, partB = 0, partS = 0, partZ = 0;
  for (const [K, N] of shapes.cols) {
    const nb = Math.ceil(K / bs);
    const zpBytes = Math.ceil((nb * container) / 8);
    const pw = partWidth(N, threads);
    bB = Math.max(bB, N * nb * blob);
    sB = Math.max(sB, N * nb * 4);
    zB = Math.max(zB, N * zpBytes);
    // a thread's outputs: its columns of every block (bands read here), or its blocks of every column (bands read by the thread)
    const pb = partBlocks(nb, threads * PARTS_PER_THREAD, container);
    partN = Math.max(partN, pw);
    partB = Math.max(partB, pw * nb * blob, N * pb * blob);
    partS = Math.max(partS, pw * nb * 4, N * pb * 4);
    partZ = Math.max(partZ, pw * zpBytes, N * Math.ceil((pb * container) / 8));
  }
  const tiedRows = (D: number): number => Math.max(1, Math.floor(bandBytes / (4 * D)));
  for (const [V, D] of shapes.rows) {
    const nb = Math.ceil(D / bs);
    const r = Math.min(V, tiedRows(D));
    inBytes = Math.max(inBytes, r * D * 4);
    outBytes = Math.max(outBytes, r * nb * blob);
    rS = Math.max(rS, V * nb * 4);
    rZ = Math.max(rZ, V * Math.ceil((nb * container) / 8));
  }
  inBytes = align(inBytes);
  const slotBytes = inBytes + align(outBytes);
  const nSlots = 2 * threads;
  const slots = new SharedArrayBuffer(slotBytes * nSlots);
  // two output sets: the threads fill one while the caller writes the other out
  const sets = [0, 1];
  const out = {
    outB: sets.map(() => new SharedArrayBuffer(align(bB))),
    outS: sets.map(() => new SharedArrayBuffer(align(sB))),
    outZ: sets.map(() => new SharedArrayBuffer(align(zB))),
    rowS: new SharedArrayBuffer(align(rS)),
    rowZ: new SharedArrayBuffer(align(rZ)),
  };
  let turn = 1;
  const slotBytesView = new Uint8Array(slots);

  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; thread: number }>();
  const busy = new Array<number>(threads).fill(0);
  let nextId = 1;
  let failure: Error | undefined;
  let closed: Promise<void> | undefined;
  const pool: BandThread[] = [];
  const terminateAll = (): Promise<void> => (closed ??= Promise.all(pool.map((t) => t.terminate().catch(() => undefined))).then(() => undefined));
  const fail = (e: Error): void => {
    if (failure) return;
    failure = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    void terminateAll();
  };
  const reply = (r: NBitsReply): void => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    busy[p.thread]!--;
    if (r.error) fail(new QuantizeWorkerError(`quantizeWeightsStreaming: a band thread failed: ${r.error.name}: ${r.error.message}`));
    else p.resolve();
  };
  const onAbort = (): void => {
    const reason = signal?.reason instanceof Error ? signal.reason.message : signal?.reason === undefined ? '' : String(signal.reason);
    fail(new PassAbortedError(`quantizeWeightsStreaming: aborted${reason ? ` (${reason})` : ''}`));
  };
  try {
    for (let t = 0; t < threads; t++) pool.push(factory({ reply, fail }));
    for (const t of pool) t.post({ type: 'init', spec, slots, slotBytes, inBytes, colRows, bandBytes: colRows * maxN * 4, partN, partB, partS, partZ, ...out });
  } catch (e) {
    fail(new QuantizeWorkerError(`quantizeWeightsStreaming: could not start a band thread: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  /** Send `job` to thread `to` (default: the one with the fewest jobs pending). */
  const submit = (job: Omit<NBitsColsJob, 'id'> | Omit<NBitsFlushJob, 'id'> | Omit<NBitsPartJob, 'id'> | Omit<NBitsRowsJob, 'id'>, to?: number): Promise<void> => {
    if (failure) return Promise.reject(failure);
    let thread = to ?? 0;
    if (to === undefined) for (let t = 1; t < threads; t++) if (busy[t]! < busy[thread]!) thread = t;
    const id = nextId++;
    busy[thread]!++;
    const p = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject, thread }));
    pool[thread]!.post({ ...job, id } as NBitsJob);
    // awaited in order by `bands`; a rejection seen first through another job must not go unhandled
    p.catch(() => undefined);
    return p;
  };

  /**
   * Fill and send `count` bands through the slots. A slot is free again as soon as its band is
   * done (the threads never wait behind a slower band), except that `done` runs in band order:
   * a finished band waits in its slot until the bands before it are done.
   */
  async function bands(count: number, send: (i: number, slot: number) => Promise<void>, done?: (i: number, slot: number) => void): Promise<void> {
    const free = Array.from({ length: nSlots }, (_, s) => nSlots - 1 - s);
    const finished = new Map<number, number>();
    let next = 0;
    let sent = 0;
    let wake: (() => void) | undefined;
    const settle = (): void => {
      wake?.();
      wake = undefined;
    };
    // the bands finished so far, in order
    const flush = (): void => {
      for (let slot = finished.get(next); slot !== undefined; slot = finished.get(next)) {
        finished.delete(next);
        done?.(next, slot);
        free.push(slot);
        next++;
      }
    };
    const changed = (): Promise<void> => new Promise<void>((r) => (wake = r));
    try {
      while (next < count) {
        if (failure) throw failure;
        if (sent < count && free.length) {
          const i = sent++;
          const slot = free.pop()!;
          send(i, slot).then(() => {
            finished.set(i, slot);
            settle();
          }, settle);
          continue;
        }
        await changed();
        flush();
      }
    } catch (e) {
      // jobs still in flight write into the slots and outputs: the pool is done
      fail(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }
  const slotIn = (slot: number, bytes: number): Uint8Array => slotBytesView.subarray(slot * slotBytes, slot * slotBytes + bytes);

  return {
    async cols(K, N, load, file) {
      const nb = Math.ceil(K / bs);
      const zpBytes = Math.ceil((nb * container) / 8);
      const pw = partWidth(N, threads);
      if (N > maxN || pw * nb * blob > partB) throw new ArgumentError(`nbitsBandPool: weight [${K}, ${N}] is larger than the shapes the pool was made for`);
      // this weight's output set (the pool's turn moves on when the next weight starts)
      const set = (turn ^= 1);
      const views = { B: new Uint8Array(out.outB[set]!, 0, N * nb * blob), scales: new Float32Array(out.outS[set]!, 0, N * nb), zps: new Uint8Array(out.outZ[set]!, 0, N * zpBytes) };
      if (file) {
        // the threads read and quantize ranges of blocks (rows) of the weight themselves: no band
        // passes through here. Four ranges per thread, each thread taking the next when it is done,
        // so a thread slowed down by a neighbour on the machine does not hold the others up.
        const pb = partBlocks(nb, threads * PARTS_PER_THREAD, container);
        let next = 0;
        const take = async (t: number): Promise<void> => {
          for (let blk0 = next * pb; blk0 < nb; blk0 = next * pb) {
            next++;
            await submit({ type: 'part', path: file.path, offset: file.offset, ...(file.dataType === 'float16' ? { float16: true } : {}), K, N, nb, blk0, blk1: Math.min(nb, blk0 + pb), rows: colRows, buf: set }, t);
          }
        };
        try {
          await Promise.all(Array.from({ length: threads }, (_, t) => take(t)));
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
          throw e;
        }
        return views;
      }
      // thread t quantizes columns t * pw .. of every band
      const parts = Array.from({ length: threads }, (_, t) => [t * pw, Math.min(N, (t + 1) * pw)] as const).filter(([n0, n1]) => n1 > n0);
      await bands(Math.ceil(K / colRows), (i, slot) => {
        const k0 = i * colRows;
        const rows = Math.min(colRows, K - k0);
        load(k0, rows, slotIn(slot, rows * N * 4));
        return Promise.all(parts.map(([n0, n1], t) => submit({ type: 'cols', slot, rows, N, nb, b0: k0 / bs, n0, n1 }, t))).then(() => undefined);
      });
      await Promise.all(parts.map(([n0, n1], t) => submit({ type: 'flush', buf: set, N, nb, n0, n1 }, t)));
      return views;
    },
    async rows(V, D, load, write) {
      const nb = Math.ceil(D / bs);
      const zpBytes = Math.ceil((nb * container) / 8);
      const r = tiedRows(D);
      if (Math.min(V, r) * D * 4 > inBytes || V * nb * 4 > rS) throw new ArgumentError(`nbitsBandPool: table [${V}, ${D}] is larger than the shapes the pool was made for`);
      const rowsOf = (i: number): number => Math.min(r, V - i * r);
      await bands(
        Math.ceil(V / r),
        (i, slot) => {
          load(i * r, rowsOf(i), slotIn(slot, rowsOf(i) * D * 4));
          return submit({ type: 'rows', slot, rows: rowsOf(i), D, v0: i * r });
        },
        (i, slot) => write(slotBytesView.subarray(slot * slotBytes + inBytes, slot * slotBytes + inBytes + rowsOf(i) * nb * blob)),
      );
      return { scales: new Float32Array(out.rowS, 0, V * nb), zps: new Uint8Array(out.rowZ, 0, V * zpBytes) };
    },
    async close() {
      signal?.removeEventListener('abort', onAbort);
      await terminateAll();
    },
  };
}
