/**
 * Streaming int4 of a decoder whose token table is tied with the LM head: the table becomes one
 * shared code tensor read by GatherBlockQuantized and the head's MatMulNBits, with the same bytes
 * as the in-memory pass (tiedHead 'shared'), and the streamed model's logits in onnxruntime-node
 * equal the in-memory model's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPass, runPass } from '@whittle/graph';
import { createOrtRunner, type OrtFeed, type OrtModelSource } from '@whittle/eval/node';
import { readModelFile, rewriteModelFile } from '@whittle/onnx/node';
import { decoderFeeds, writeDecoderLmExternal } from '@whittle/testing/lm';
import { quantizeWeightsStreaming } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-tied-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(m: OrtModelSource, feeds: Record<string, OrtFeed>): Promise<Float32Array> {
  const r = await createOrtRunner(m);
  try {
    return (await r.run(feeds))['logits']!.data as Float32Array;
  } finally {
    await r.release();
  }
}

describe('streaming int4 of a tied token table', () => {
  const lm = writeDecoderLmExternal({ seed: 9, layers: 1, dModel: 64, heads: 4, vocab: 160, maxPositions: 16 }, join(dir, 'lm.onnx'));
  const feeds = decoderFeeds(lm.config, [[3, 150, 77, 9, 41]]) as Record<string, OrtFeed>;

  for (const symmetric of [true, false]) {
    it(`${symmetric ? 'symmetric' : 'asymmetric'}: GatherBlockQuantized + MatMulNBits share the in-memory pass's codes; logits match it`, async () => {
      const out = join(dir, `lm_q4_${symmetric}.onnx`);
      const layers: { weight: string }[] = [];
      await rewriteModelFile(lm.modelPath, out, async (m, io) => void layers.push(...(await quantizeWeightsStreaming(m, io, { bits: 4, blockSize: 32, symmetric, sliceElements: 300 }))));
      expect(layers[0]!.weight).toBe('transformer.wte.weight');
      const streamed = await readModelFile(out);
      const ops = streamed.graph.nodes.map((n) => n.opType);
      expect(ops.filter((o) => o === 'GatherBlockQuantized')).toHaveLength(1);
      expect(ops.filter((o) => o === 'MatMulNBits')).toHaveLength(6 + 1); // q, k, v, out, fc_in, fc_out + the head
      expect(streamed.graph.initializers.has('transformer.wte.weight')).toBe(false);
      // the in-memory pass on MatMul + the tied table (not the position table, which streaming keeps float)
      const inMemory = await readModelFile(lm.modelPath);
      const reference = (await runPass(getPass('quantize-weights'), inMemory, { bits: 4, blockSize: 32, symmetric, format: 'matmulnbits', ops: ['MatMul', 'Gather'], excludeNodes: ['/wpe/Gather'], tiedHead: 'shared' }, {})).model;
      for (const name of ['transformer.wte.weight_q4', 'transformer.wte.weight_scales', ...(symmetric ? [] : ['transformer.wte.weight_zero_points'])]) {
        const [s, r] = [streamed.graph.initializers.get(name), reference.graph.initializers.get(name)];
        expect(s?.shape, name).toEqual(r?.shape);
        expect(Buffer.from((s!.dataSync() as Uint8Array).buffer).equals(Buffer.from((r!.dataSync() as Uint8Array).buffer)), name).toBe(true);
      }
      // two blocks per row: the gather reads the head's packed zero points (none stored for it alone)
      for (const m of [streamed, reference]) expect(m.graph.initializers.has('transformer.wte.weight_gather_zero_points')).toBe(false);
      const [ys, yr, yf] = [await logits(out, feeds), await logits(reference, feeds), await logits(lm.modelPath, feeds)];
      expect(ys.reduce((d, v, i) => Math.max(d, Math.abs(v - yr[i]!)), 0)).toBeLessThan(1e-4);
      let dot = 0, a = 0, b = 0;
      for (let i = 0; i < yf.length; i++) [dot, a, b] = [dot + yf[i]! * ys[i]!, a + yf[i]! ** 2, b + ys[i]! ** 2];
      expect(dot / Math.sqrt(a * b)).toBeGreaterThan(0.95);
    });
  }

  it("tiedEmbedding 'float' leaves the table and its Transpose alone", async () => {
    const out = join(dir, 'lm_q4_float.onnx');
    await rewriteModelFile(lm.modelPath, out, async (m, io) => void (await quantizeWeightsStreaming(m, io, { tiedEmbedding: 'float' })));
    const m = await readModelFile(out);
    expect(m.graph.initializers.has('transformer.wte.weight')).toBe(true);
    expect(m.graph.nodes.some((n) => n.opType === 'GatherBlockQuantized')).toBe(false);
  });
});
