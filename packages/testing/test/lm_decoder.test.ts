import { describe, expect, it } from 'vitest';
import { type Model, runModel } from '@whittle/graph';
import { createOrtRunner, type OrtFeed, type OrtOutput } from '@whittle/eval/node';
import { tensor } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds, decoderLmParameterCount, presentNames, type DecoderFeed } from '../src/lm/index.js';

async function ort(m: Model, feeds: Record<string, DecoderFeed>): Promise<Record<string, OrtOutput>> {
  const r = await createOrtRunner(m);
  try {
    return await r.run(feeds as Record<string, OrtFeed>);
  } finally {
    await r.release();
  }
}

async function interpret(m: Model, feeds: Record<string, DecoderFeed>): Promise<Record<string, Float32Array>> {
  const t = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, tensor(f.data, f.dims, f.data instanceof Float32Array ? 'float32' : 'int64', { backend: 'cpu' })]));
  const out = await runModel(m, t, { backend: 'cpu' });
  const r: Record<string, Float32Array> = {};
  for (const [k, v] of out) r[k] = (await v.data()) as Float32Array;
  return r;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), a.length === b.length ? 0 : Infinity);

/** Logits of `ids` decoded as a prefix call then one call per token, present fed back as past. */
async function incremental(run: (f: Record<string, DecoderFeed>) => Promise<Record<string, Float32Array>>, lm: ReturnType<typeof buildDecoderLm>, ids: number[], prefix: number): Promise<Float32Array> {
  const logits: Float32Array[] = [];
  let past: Record<string, Float32Array> | undefined;
  for (let at = 0; at < ids.length; ) {
    const step = at === 0 ? prefix : 1;
    const out = await run(decoderFeeds(lm.config, [ids.slice(at, at + step)], past, at));
    logits.push(out['logits']!);
    past = Object.fromEntries(presentNames(lm.config).map((n) => [n, out[n]!]));
    at += step;
  }
  return Float32Array.from(logits.flatMap((l) => [...l]));
}

describe('buildDecoderLm', () => {
  const lm = buildDecoderLm({ seed: 3, layers: 2, dModel: 32, heads: 4, vocab: 97, maxPositions: 16 });
  const ids = [5, 17, 96, 42, 9, 0, 63];
  const ortRun = async (f: Record<string, DecoderFeed>): Promise<Record<string, Float32Array>> =>
    Object.fromEntries(Object.entries(await ort(lm.model, f)).map(([k, v]) => [k, v.data as Float32Array]));

  it('has the Transformers.js decoder layout: inputs, outputs, symbolic dims, tied embedding, LayerNormalization', () => {
    const g = lm.model.graph;
    expect(g.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(g.outputs.map((v) => v.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const shape = (v: (typeof g.inputs)[number]): unknown => (v.type?.kind === 'tensor' ? v.type.shape : undefined);
    expect(shape(g.inputs[1]!)).toEqual(['batch_size', 'total_sequence_length']);
    expect(shape(g.inputs[3]!)).toEqual(['batch_size', 4, 'past_sequence_length', 8]);
    expect(shape(g.outputs[0]!)).toEqual(['batch_size', 'sequence_length', 97]);
    expect(shape(g.outputs[1]!)).toEqual(['batch_size', 4, 'total_sequence_length', 8]);
    expect(g.nodes.filter((n) => n.inputs.includes('transformer.wte.weight')).map((n) => n.opType).sort()).toEqual(['Gather', 'Transpose']);
    expect(g.nodes.filter((n) => n.opType === 'LayerNormalization')).toHaveLength(5);
    let params = 0;
    for (const t of g.initializers.values()) if (t.dtype === 'float32' && t.rank > 0) params += t.size;
    expect(params).toBe(decoderLmParameterCount(lm.config));
  });

  it('onnxruntime-node: an empty past works, a prefix then one token per call equals the whole sequence', async () => {
    const full = await ortRun(decoderFeeds(lm.config, [ids]));
    expect(full['logits']!.length).toBe(ids.length * 97);
    expect(full['present.1.value']!.length).toBe(4 * ids.length * 8);
    const stepwise = await incremental(ortRun, lm, ids, 3);
    expect(maxAbsDiff(stepwise, full['logits']!)).toBeLessThan(1e-5);
    // the logits are not degenerate, and a changed later token leaves earlier positions alone
    expect(Math.max(...full['logits']!) - Math.min(...full['logits']!)).toBeGreaterThan(0.05);
    const other = await ortRun(decoderFeeds(lm.config, [[...ids.slice(0, 4), 1, 2, 3]]));
    expect(maxAbsDiff(other['logits']!.slice(0, 4 * 97), full['logits']!.slice(0, 4 * 97))).toBeLessThan(1e-6);
    expect(maxAbsDiff(other['logits']!.slice(4 * 97), full['logits']!.slice(4 * 97))).toBeGreaterThan(1e-4);
  });

  it('padding: a left-padded row masked by attention_mask gives the unpadded row\'s logits', async () => {
    const f = decoderFeeds(lm.config, [[0, 0, ...ids.slice(0, 5)]]);
    f['attention_mask']!.data = BigInt64Array.from([0n, 0n, 1n, 1n, 1n, 1n, 1n]);
    f['position_ids']!.data = BigInt64Array.from([1n, 1n, 0n, 1n, 2n, 3n, 4n]);
    const padded = await ortRun(f);
    const plain = await ortRun(decoderFeeds(lm.config, [ids.slice(0, 5)]));
    expect(maxAbsDiff(padded['logits']!.slice(2 * 97), plain['logits']!)).toBeLessThan(1e-5);
  });

  it("Whittle's interpreter (cpu) matches onnxruntime, with and without past", async () => {
    const full = await interpret(lm.model, decoderFeeds(lm.config, [ids]));
    const ref = await ortRun(decoderFeeds(lm.config, [ids]));
    expect(maxAbsDiff(full['logits']!, ref['logits']!)).toBeLessThan(1e-5);
    const stepwise = await incremental((f) => interpret(lm.model, f), lm, ids, 4);
    expect(maxAbsDiff(stepwise, ref['logits']!)).toBeLessThan(1e-5);
  });
});
