/**
 * Streaming int4 of float16 models (a `model_fp16.onnx` with external data): MatMul weights become
 * MatMulNBits and the tied token table GatherBlockQuantized + the head's MatMulNBits, all with
 * float16 scales, with the same bytes as the in-memory `quantize-weights` pass on the same model —
 * on one thread and on band threads, whether the threads read the half floats themselves or get
 * bands decoded here. The streamed model runs in onnxruntime-node with float16 logits close to the
 * fp16 model's; a model mixing float32 and float16 weights gets each weight's scales in its type.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Model, getPass, runPass } from '@whittle/graph';
import { readModelFile, rewriteModelFile, writeModelFile } from '@whittle/onnx/node';
import { type Tensor, float16BitsToFloat32 } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { type StreamQuantizeLayer, type StreamQuantizeOptions, nodeBandThreads, quantizeWeightsStreaming } from '../src/node.js';
import { decodeFloat16Bits } from '@whittle/tensor/float16';
import { convertFloat16Pass } from '../src/float16.js';
import { expectSameInitializers, ioTypes, ortRunHalf } from './float16_helpers.js';
import { relError } from './helpers.js';
import { cosine } from './real_models.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-f16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lm = buildDecoderLm({ seed: 7, layers: 1, dModel: 64, heads: 4, vocab: 160, maxPositions: 16 });
const feeds = decoderFeeds(lm.config, [[3, 150, 77, 9, 41], [1, 2, 60, 33, 120]]);
const TABLE = 'transformer.wte.weight';

/** `model` converted to float16 (io too, as fp16 exports are), written with its weights in external data. */
async function writeHalf(name: string, blockNodes: string[] = []): Promise<{ path: string; model: Model }> {
  const model = (await runPass(convertFloat16Pass, lm.model, { keepIoTypes: false, blockNodes })).model;
  const path = join(dir, `${name}.onnx`);
  await writeModelFile(model, path, { externalData: { location: `${name}.onnx.data`, sizeThreshold: 1024 } });
  return { path, model: await readModelFile(path) };
}

let runs = 0;
async function stream(path: string, opts: StreamQuantizeOptions, hideDataFile = false): Promise<{ model: Model; layers: StreamQuantizeLayer[]; path: string }> {
  const out = join(dir, `q${runs++}.onnx`);
  const layers: StreamQuantizeLayer[] = [];
  // without io.dataFile, band threads get their bands decoded on this thread
  await rewriteModelFile(path, out, async (m, io) => void layers.push(...(await quantizeWeightsStreaming(m, hideDataFile ? { load: io.load, begin: io.begin } : io, opts))));
  return { model: await readModelFile(out), layers, path: out };
}

/** The in-memory pass on the streamed weights: MatMul and the tied table (streaming keeps the position table). */
async function inMemory(model: Model, symmetric: boolean): Promise<Model> {
  return (await runPass(getPass('quantize-weights'), model, { bits: 4, blockSize: 32, symmetric, format: 'matmulnbits', ops: ['MatMul', 'Gather'], excludeNodes: ['/wpe/Gather'], tiedHead: 'shared' }, {})).model;
}


describe('streaming int4 of a float16 decoder (external data)', async () => {
  const half = await writeHalf('lm16');
  const ref = (await ortRunHalf(half.model, feeds)).outputs.logits!;

  for (const symmetric of [true, false]) {
    it(`${symmetric ? 'symmetric' : 'asymmetric'}: float16 scales, the in-memory pass's bytes on 1 and 2 threads; float16 logits close to the fp16 model`, async () => {
      const one = await stream(half.path, { bits: 4, blockSize: 32, symmetric, sliceElements: 300 });
      expect(one.layers.map((l) => l.dataType)).toEqual(one.layers.map(() => 'float16'));
      expect(one.layers[0]!.weight).toBe(TABLE);
      const ops = one.model.graph.nodes.map((n) => n.opType);
      expect(ops.filter((o) => o === 'GatherBlockQuantized')).toHaveLength(1);
      expect(ops.filter((o) => o === 'MatMulNBits')).toHaveLength(6 + 1);
      // every float initializer is float16: scales included, nothing float32 added
      expect([...one.model.graph.initializers].filter(([, t]) => t.dtype === 'float32').map(([k]) => k)).toEqual([]);
      expect(one.model.graph.initializers.get(`${TABLE}_scales`)!.dtype).toBe('float16');
      expectSameInitializers(one.model, await inMemory(half.model, symmetric));
      for (const [opts, hide] of [[{ threads: 2, bandThreads: nodeBandThreads }, false], [{ threads: 2, bandThreads: nodeBandThreads, sliceElements: 300 }, true]] as const) {
        expectSameInitializers((await stream(half.path, { bits: 4, blockSize: 32, symmetric, ...opts }, hide)).model, one.model);
      }
      const r = await ortRunHalf(one.model, feeds);
      expect(ioTypes(one.model)).toEqual(ioTypes(half.model));
      expect(r.types.logits).toBe('float16');
      expect(cosine(ref, r.outputs.logits!)).toBeGreaterThan(0.95);
    });
  }

  it('8-bit grids: MatMulNBits with float16 scales, the tied table left float16 (as the float32 path leaves it float32)', async () => {
    const q = await stream(half.path, { bits: 8, blockSize: 32, symmetric: false });
    expect(q.layers).toHaveLength(6);
    expect(q.model.graph.initializers.get(TABLE)!.dtype).toBe('float16');
    const reference = (await runPass(getPass('quantize-weights'), half.model, { bits: 8, blockSize: 32, symmetric: false, format: 'matmulnbits', ops: ['MatMul'] }, {})).model;
    for (const l of q.layers) for (const k of ['_nbits', '_scales', '_zero_points']) {
      const [s, t] = [q.model.graph.initializers.get(l.weight + k)!, reference.graph.initializers.get(l.weight + k)!];
      expect([s.dtype, Array.from(s.dataSync() as ArrayLike<number>)], l.weight + k).toEqual([t.dtype, Array.from(t.dataSync() as ArrayLike<number>)]);
    }
    const r = await ortRunHalf(q.model, feeds);
    expect(relError(ref, r.outputs.logits!)).toBeLessThan(0.02);
  });
});

describe('streaming int4 of a model mixing float32 and float16 weights', async () => {
  // the feed-forward input projection kept float32 (Casts around it), everything else float16
  const fcIn = lm.model.graph.nodes.find((n) => n.opType === 'MatMul' && lm.model.graph.initializers.get(n.inputs[1]!)?.shape[1] === lm.config.ffn)!;
  const mixed = await writeHalf('mixed', [fcIn.name]);
  const kept = fcIn.inputs[1]!;

  it('each weight quantized in its own type: float32 scales for the float32 one, float16 for the rest; bytes equal the in-memory pass', async () => {
    expect(mixed.model.graph.initializers.get(kept)!.dtype).toBe('float32');
    const q = await stream(mixed.path, { bits: 4, blockSize: 32, symmetric: true, threads: 2, bandThreads: nodeBandThreads });
    const types = Object.fromEntries(q.layers.map((l) => [l.weight, l.dataType]));
    expect(Object.values(types).filter((t) => t === 'float32')).toEqual(['float32']);
    expect(types[kept]).toBe('float32');
    expect(q.model.graph.initializers.get(`${kept}_scales`)!.dtype).toBe('float32');
    expect(q.model.graph.initializers.get(`${TABLE}_scales`)!.dtype).toBe('float16');
    expectSameInitializers(q.model, await inMemory(mixed.model, true));
    const base = (await ortRunHalf(mixed.model, feeds)).outputs.logits!;
    expect(cosine(base, (await ortRunHalf(q.model, feeds)).outputs.logits!)).toBeGreaterThan(0.95);
  });
});

describe('streaming int4 of a float16 model: memory', () => {
  it('peak memory follows the largest weight, with no float32 copy of the model (child process, 4 x 32 MB float16 weights, 1 thread)', () => {
    const r = spawnSync(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', join(here, 'fixtures', 'stream_peak_float16.ts'), dir, '1'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { peakRss: number; baseRss: number; largest: number; total: number };
    console.log(`float16 streaming (1 thread) peak RSS ${(m.peakRss / 2 ** 20).toFixed(0)} MB (before ${(m.baseRss / 2 ** 20).toFixed(0)} MB) for ${(m.total / 2 ** 20).toFixed(0)} MB of float16 weights, largest ${(m.largest / 2 ** 20).toFixed(0)} MB`);
    // the float32 path's bound, and less than the float16 model itself (decoded to float32 it would be twice that)
    expect(m.peakRss).toBeLessThan(m.largest + 300 * 2 ** 20);
    expect(m.peakRss - m.baseRss).toBeLessThan(m.total);
  });
});

describe('float16 decoding', () => {
  it('gives the float32 bits of every half float, as the in-memory passes decode them', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const out = new Uint32Array(65536);
    decodeFloat16Bits(all, out);
    const expected = new Uint32Array(Float32Array.from(all, float16BitsToFloat32).buffer);
    let differing = 0;
    for (let i = 0; i < 65536; i++) if (out[i] !== expected[i]) differing++;
    expect(differing).toBe(0);
  });
});
