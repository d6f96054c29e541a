/**
 * Streaming MatMulNBits on band threads (node:worker_threads): the files are byte-identical to
 * the one-thread pass for any thread count, band size, grid and container — both when the threads
 * read the weights themselves and when this thread reads bands for them — and for a tied token
 * table. A failing thread surfaces as a QuantizeWorkerError, an abort as a PassAbortedError; in
 * both cases no output file is left and every thread is terminated.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PassAbortedError, type TensorStreamIO } from '@whittle/graph';
import { rewriteModelFile } from '@whittle/onnx/node';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { writeDecoderLmExternal } from '@whittle/testing/lm';
import { type BandThreadFactory, QuantizeWorkerError, type StreamQuantizeOptions, nodeBandThreads, quantizeWeightsStreaming } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

let runs = 0;
/** Quantize `model` into a fresh folder (same file name each time, so the model files compare too); returns the file hashes. */
async function quantize(model: string, opts: StreamQuantizeOptions, hideDataFile = false): Promise<string[]> {
  const out = join(dir, `run${runs++}`);
  mkdirSync(out);
  const path = join(out, 'q.onnx');
  // without io.dataFile the threads get their bands from this thread
  await rewriteModelFile(model, path, (m, io) => quantizeWeightsStreaming(m, hideDataFile ? { load: io.load, begin: io.begin } : io, opts));
  return [sha(path), sha(`${path}.data`)];
}

/** nodeBandThreads, counting threads started and terminated. */
function counted(): { factory: BandThreadFactory; started: number; terminated: number } {
  const c = {
    started: 0,
    terminated: 0,
    factory: ((h) => {
      const t = nodeBandThreads(h);
      c.started++;
      return { post: (j) => t.post(j), terminate: async () => void (await t.terminate(), c.terminated++) };
    }) as BandThreadFactory,
  };
  return c;
}

describe('streaming MatMulNBits on band threads', () => {
  // K not a multiple of the block, widths not multiples of 16
  const mlp = writeSyntheticMlp(dir, [100, 80, 200, 48], { seed: 3, name: 'mlp' });

  it('gives the one-thread bytes for 2 and 3 threads, any band size, grid and container', async () => {
    // (a 2-bit grid is quantized in these 4-bit containers and repacked after: stream_nbits.test.ts checks its bytes)
    for (const [bits, symmetric] of [[4, true], [4, false], [3, false], [8, false]] as const) {
      const base = { bits, symmetric, blockSize: 16 };
      const one = await quantize(mlp.modelPath, base);
      const c = counted();
      // 200 floats: one block of rows per band (bands start at odd blocks); 9600: three blocks
      for (const [threads, sliceElements, hide] of [[2, undefined, false], [2, 200, true], [2, 9600, true], [3, 200, false], [3, undefined, true]] as const) {
        const r = await quantize(mlp.modelPath, { ...base, threads, bandThreads: c.factory, ...(sliceElements ? { sliceElements } : {}) }, hide);
        expect(r, `${bits}-bit ${symmetric ? 'symmetric' : 'asymmetric'}, ${threads} threads, sliceElements ${sliceElements}, ${hide ? 'bands read here' : 'threads read'}`).toEqual(one);
      }
      expect(c.terminated).toBe(c.started);
    }
  });

  it('gives the one-thread bytes for a tied token table (GatherBlockQuantized + MatMulNBits)', async () => {
    const lm = writeDecoderLmExternal({ seed: 9, layers: 1, dModel: 64, heads: 4, vocab: 160, maxPositions: 16 }, join(dir, 'lm.onnx'));
    for (const symmetric of [true, false]) {
      const one = await quantize(lm.modelPath, { symmetric, sliceElements: 300 });
      expect(await quantize(lm.modelPath, { symmetric, sliceElements: 300, threads: 2, bandThreads: nodeBandThreads })).toEqual(one);
      expect(await quantize(lm.modelPath, { symmetric, threads: 2, bandThreads: nodeBandThreads }, true)).toEqual(one);
    }
  });

  it('a thread that fails is a QuantizeWorkerError: no output file, every thread terminated', async () => {
    for (const hide of [false, true]) {
      const c = counted();
      // a broken init message makes the worker throw: a crash of the real thread
      const broken: BandThreadFactory = (h) => {
        const t = c.factory(h);
        return { post: (j) => t.post(j.type === 'init' ? ({ ...j, spec: undefined } as unknown as typeof j) : j), terminate: () => t.terminate() };
      };
      await expect(quantize(mlp.modelPath, { threads: 2, bandThreads: broken }, hide)).rejects.toThrow(QuantizeWorkerError);
      expect(readdirSync(join(dir, `run${runs - 1}`))).toEqual([]);
      expect(c.started).toBe(2);
      expect(c.terminated).toBe(c.started);
    }
  });

  it('threads > 1 without bandThreads is an ArgumentError', async () => {
    const io = {} as TensorStreamIO;
    const m = { graph: { nodes: [], rawInitializers: new Map() } } as unknown as Parameters<typeof quantizeWeightsStreaming>[0];
    await expect(quantizeWeightsStreaming(m, io, { threads: 2 })).rejects.toThrow(/bandThreads/);
  });

  it('an abort stops the pass with PassAbortedError: no output file, every thread terminated', async () => {
    const c = counted();
    const ac = new AbortController();
    const out = join(dir, 'aborted');
    mkdirSync(out);
    const path = join(out, 'q.onnx');
    const run = rewriteModelFile(mlp.modelPath, path, (m, io) => quantizeWeightsStreaming(m, io, { threads: 2, bandThreads: c.factory, signal: ac.signal, onProgress: (d) => d === 1 && ac.abort() }));
    await expect(run).rejects.toThrow(PassAbortedError);
    expect(existsSync(path) || existsSync(`${path}.data`)).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    expect(c.started).toBe(2);
    expect(c.terminated).toBe(c.started);
  });
});
