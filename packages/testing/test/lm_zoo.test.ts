import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModel } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { type OrtFeed, createOrtRunner } from '@whittle/eval/node';
import { tensor } from '@whittle/tensor';
import { type DecoderFeed, LM_RECIPE, decoderFeeds, decoderPerplexityOrt, lmZooModel, presentNames, unigramPerplexity } from '../src/lm/index.js';

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), a.length === b.length ? 0 : Infinity);

describe('zoo LM (trained by Whittle on the TypeScript lib corpus)', () => {
  const zoo = lmZooModel();
  const c = zoo.config;
  const tok = zoo.tokenizer();
  const held = tok.encode(zoo.heldOutText());

  it('is the recipe\'s decoder: layout, sizes, tied embedding', async () => {
    const m = await readModel(new Uint8Array(readFileSync(zoo.path)));
    expect(m.graph.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', ...presentNames(c).map((n) => n.replace('present', 'past_key_values'))]);
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['logits', ...presentNames(c)]);
    expect(c).toMatchObject({ layers: LM_RECIPE.layers, dModel: LM_RECIPE.dModel, heads: LM_RECIPE.heads, vocab: tok.vocabSize, maxPositions: LM_RECIPE.context });
    expect(m.graph.initializers.get('transformer.wte.weight')!.shape).toEqual([c.vocab, c.dModel]);
    expect(m.graph.nodes.filter((n) => n.inputs.includes('transformer.wte.weight')).map((n) => n.opType).sort()).toEqual(['Gather', 'Transpose']);
  });

  it('held-out perplexity in onnxruntime-node is below a tenth of the unigram perplexity of the same tokens', async () => {
    // a slice inside lib.es2015.core.d.ts, past its license header (which every train file shares)
    const start = held.indexOf(tok.endOfText) + 400;
    const slice = held.slice(start, start + 6 * c.maxPositions);
    const { perplexity, tokens } = await decoderPerplexityOrt(zoo.path, c, slice);
    expect(tokens).toBe(6 * (c.maxPositions - 1));
    const scored = Array.from({ length: 6 }, (_, w) => slice.slice(w * c.maxPositions + 1, (w + 1) * c.maxPositions)).flat();
    const unigram = unigramPerplexity(tok.encode(zoo.trainText()), scored, c.vocab);
    // measured when committed: 12.2 against a unigram 456
    expect(perplexity).toBeLessThan(unigram / 10);
  });

  it("Whittle's interpreter gives onnxruntime's logits, in one call and with the past fed back", async () => {
    const ids = held.slice(3000, 3000 + 40);
    const runner = await createOrtRunner(zoo.path);
    const ref = (await runner.run(decoderFeeds(c, [ids]) as Record<string, OrtFeed>))['logits']!.data as Float32Array;
    await runner.release();
    const model = await readModel(new Uint8Array(readFileSync(zoo.path)));
    const run = async (f: Record<string, DecoderFeed>): Promise<Map<string, Float32Array>> => {
      const feeds = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, tensor(v.data, v.dims, v.data instanceof Float32Array ? 'float32' : 'int64', { backend: 'cpu' })]));
      const out = await runModel(model, feeds, { backend: 'cpu' });
      return new Map(await Promise.all([...out].map(async ([k, v]) => [k, (await v.data()) as Float32Array] as const)));
    };
    const full = await run(decoderFeeds(c, [ids]));
    expect(maxAbsDiff(full.get('logits')!, ref)).toBeLessThan(1e-4);
    const prefix = await run(decoderFeeds(c, [ids.slice(0, 36)]));
    let past = Object.fromEntries(presentNames(c).map((n) => [n, prefix.get(n)!]));
    for (let at = 36; at < ids.length; at++) {
      const step = await run(decoderFeeds(c, [[ids[at]!]], past, at));
      expect(maxAbsDiff(step.get('logits')!, ref.subarray(at * c.vocab, (at + 1) * c.vocab))).toBeLessThan(1e-4);
      past = Object.fromEntries(presentNames(c).map((n) => [n, step.get(n)!]));
    }
  });
});
