/**
 * The LM evaluation on Whittle's interpreter (`interpreterDecoderSession`): on a float32 decoder it
 * gives onnxruntime-node's perplexity and greedy tokens; on a float16 copy of a decoder whose
 * residual stream leaves float16's range when squared (a Llama-style RMSNorm over a "massive
 * activation"), converted without measured ranges, it shows the collapse that onnxruntime's CPU
 * provider (computing most float16 ops in float32) hides, and converted with measured ranges it
 * agrees with float32.
 */
import { type Feeds, runRecipe } from '@whittle/graph';
import '@whittle/quantize';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { optimumLlamaDecoder } from '@whittle/testing/exporters';
import { buildDecoderLm } from '@whittle/testing/lm';
import { describe, expect, it } from 'vitest';
import { cosineSimilarity, decoderIo, greedyGenerate, interpreterDecoderSession, slidingPerplexity } from '../src/index.js';
import { openOrtDecoder } from '../src/node.js';

const stream = (n: number, vocab: number): number[] => Array.from({ length: n }, (_, i) => (i * 37 + 11 + ((i * i) % 13)) % vocab);

describe('LM evaluation on the interpreter', () => {
  it('float32: the perplexity and greedy tokens onnxruntime-node gives', async () => {
    const lm = buildDecoderLm({ seed: 3, layers: 2, dModel: 32, heads: 4, vocab: 96, maxPositions: 64 });
    const tokens = stream(50, 96);
    const ort = await openOrtDecoder(writeModel(lm.model), { intraOpNumThreads: 1 });
    const mine = interpreterDecoderSession(lm.model);
    try {
      const [a, b] = [await slidingPerplexity(ort, decoderIo(ort, 'ort'), tokens, 24, 12), await slidingPerplexity(mine, decoderIo(mine, 'interpreter'), tokens, 24, 12)];
      expect(b.tokens).toBe(a.tokens);
      expect(b.meanNll).toBeCloseTo(a.meanNll, 4);
      const prompt = tokens.slice(0, 6);
      const [ga, gb] = [await greedyGenerate(ort, decoderIo(ort, 'ort'), prompt, 6), await greedyGenerate(mine, decoderIo(mine, 'interpreter'), prompt, 6)];
      expect(gb.tokens).toEqual(ga.tokens);
    } finally {
      await ort.release();
    }
  });

  it('float16 between ops: an unmeasured conversion collapses where onnxruntime-node looks right; measured ranges agree with float32', async () => {
    const model = optimumLlamaDecoder({ seed: 7, vocab: 96, massiveActivation: { channel: 5, value: 600 } });
    const prompt = [3, 7, 11, 5, 9, 12];
    const logits = async (s: ReturnType<typeof interpreterDecoderSession> | Awaited<ReturnType<typeof openOrtDecoder>>): Promise<Float32Array> => (await greedyGenerate(s, decoderIo(s, 'lm'), prompt, 1, { keepLogits: true })).logits![0]!;
    const ref = await logits(interpreterDecoderSession(model));
    const blind = (await runRecipe(model, { passes: [{ pass: 'convert-float16', options: { keepIoTypes: false } }] }, { frontEnd: true, seed: 0 })).model;
    const ort = await openOrtDecoder(writeModel(blind), { intraOpNumThreads: 1 });
    try {
      expect(cosineSimilarity(await logits(ort), ref)).toBeGreaterThan(0.999);
    } finally {
      await ort.release();
    }
    // all-zero logits (the norms' variance overflowed to inf): no cosine at all
    const collapsed = cosineSimilarity(await logits(interpreterDecoderSession(blind)), ref);
    expect(collapsed > 0.9, `cosine ${collapsed}`).toBe(false);
    // token windows of the model's vocabulary, an empty cache: the RMSNorms' squares stay float32
    const windows = async function* (): AsyncGenerator<Feeds> {
      for (let s = 0; s < 2; s++) {
        const ids = stream(12, 96).map((v) => (v + s * 5) % 96);
        const feeds: Feeds = {
          input_ids: tensor(BigInt64Array.from(ids, BigInt), [1, 12], 'int64'),
          attention_mask: tensor(new BigInt64Array(12).fill(1n), [1, 12], 'int64'),
          position_ids: tensor(BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, 12], 'int64'),
        };
        for (let l = 0; l < 2; l++) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = tensor(new Float32Array(0), [1, 2, 0, 16]);
        yield feeds;
      }
    };
    const measured = (await runRecipe(model, { passes: [{ pass: 'convert-float16', options: { keepIoTypes: false } }] }, { frontEnd: true, seed: 0, calibration: { [Symbol.asyncIterator]: () => windows() } })).model;
    expect(cosineSimilarity(await logits(interpreterDecoderSession(measured)), ref)).toBeGreaterThan(0.999);
  });
});
