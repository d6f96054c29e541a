/**
 * Streaming int4 of a Llama-style decoder whose token table is not tied with the LM head
 * (`model.embed_tokens.weight` read only by a Gather, `lm_head` its own MatMul weight), float32
 * and float16, in external data: the table becomes GatherBlockQuantized with every quantized
 * initializer byte-identical to the in-memory `quantize-weights` pass (1 and 2 threads), the
 * output runs in onnxruntime-node with logits close to the original's, and the file is smaller
 * than with the table kept float.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Model, getPass, runPass } from '@whittle/graph';
import { readModelFile, rewriteModelFile, writeModelFile } from '@whittle/onnx/node';
import type { Tensor } from '@whittle/tensor';
import { genaiBuilderDecoder, genaiBuilderFeeds } from '@whittle/testing/exporters';
import { type StreamQuantizeLayer, type StreamQuantizeOptions, nodeBandThreads, quantizeWeightsStreaming } from '../src/node.js';
import { convertFloat16Pass } from '../src/float16.js';
import { expectSameInitializers, ortRunHalf } from './float16_helpers.js';
import { cosine } from './real_models.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-gather-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TABLE = 'model.embed_tokens.weight';
const { model: llama, config } = genaiBuilderDecoder({ seed: 11, layers: 1, hidden: 64, heads: 4, kvHeads: 2, vocab: 256, tiedEmbeddings: false });
const feeds = Object.fromEntries(Object.entries(genaiBuilderFeeds(config, [[3, 250, 77, 9, 41, 128]])).map(([k, t]) => [k, { data: t.dataSync() as Float32Array | BigInt64Array, dims: [...t.shape] }]));

async function writeExternal(name: string, model: Model): Promise<string> {
  const path = join(dir, `${name}.onnx`);
  await writeModelFile(model, path, { externalData: { location: `${name}.onnx.data`, sizeThreshold: 1024 } });
  return path;
}

let runs = 0;
async function stream(path: string, opts: StreamQuantizeOptions): Promise<{ model: Model; layers: StreamQuantizeLayer[]; bytes: number }> {
  const out = join(dir, `q${runs++}.onnx`);
  const layers: StreamQuantizeLayer[] = [];
  await rewriteModelFile(path, out, async (m, io) => void layers.push(...(await quantizeWeightsStreaming(m, io, opts))));
  return { model: await readModelFile(out), layers, bytes: statSync(out).size + statSync(`${out}.data`).size };
}


describe('streaming int4 of an untied token table', async () => {
  const half = (await runPass(convertFloat16Pass, llama, { keepIoTypes: false })).model;
  const models = { float32: await writeExternal('llama', llama), float16: await writeExternal('llama16', half) };

  for (const type of ['float32', 'float16'] as const) {
    for (const symmetric of [true, false]) {
      it(`${type}, ${symmetric ? 'symmetric' : 'asymmetric'}: GatherBlockQuantized with the in-memory pass's bytes on 1 and 2 threads; logits close; smaller file`, async () => {
        const path = models[type];
        const original = await readModelFile(path);
        const opts = { bits: 4, blockSize: 32, symmetric, sliceElements: 1000 };
        const one = await stream(path, opts);
        const two = await stream(path, { ...opts, threads: 2, bandThreads: nodeBandThreads });
        const table = one.layers.find((l) => l.weight === TABLE)!;
        expect([table.emitted, table.shape, table.dataType]).toEqual(['GatherBlockQuantized', [256, 64], type]);
        const gbq = one.model.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized');
        expect(gbq.map((n) => n.inputs[1])).toEqual(['input_ids']);
        expect(one.model.graph.nodes.some((n) => n.opType === 'Gather' && n.inputs[0] === TABLE)).toBe(false);
        expect(one.model.graph.initializers.get(`${TABLE}_scales`)!.dtype).toBe(type);
        const reference = (await runPass(getPass('quantize-weights'), original, { bits: 4, blockSize: 32, symmetric, format: 'matmulnbits', ops: ['MatMul', 'Gather'] }, {})).model;
        expect(reference.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized')).toHaveLength(1);
        expectSameInitializers(one.model, reference);
        expectSameInitializers(two.model, reference);
        const kept = await stream(path, { ...opts, untiedEmbedding: 'float' });
        expect(kept.model.graph.initializers.get(TABLE)?.dtype).toBe(type);
        expect(one.bytes).toBeLessThan(kept.bytes - 256 * 64 * (type === 'float32' ? 3 : 1));
        const [ys, yf] = [(await ortRunHalf(one.model, feeds)).outputs['logits']!, (await ortRunHalf(original, feeds)).outputs['logits']!];
        expect(cosine(ys, yf)).toBeGreaterThan(0.95);
      });
    }
  }
});
