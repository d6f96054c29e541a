import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type Model, runModel } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { type Tensor, toBackend } from '@whittle/tensor';
import { genaiBuilderDecoder, genaiBuilderFeeds } from '../src/exporters/index.js';
import { describeBackends } from '../src/describe_backends.js';

/**
 * The onnxruntime-genai model-builder decoder: its layout, onnxruntime-node running it with and
 * without a past (one step with the cache equals the last position of the whole sequence), and
 * Whittle's interpreter (cpu and webgpu) giving onnxruntime's logits and presents for a prompt
 * and the next step.
 */
async function ortRun(model: Model, feeds: Record<string, Tensor>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const s = await ort.InferenceSession.create(writeModel(model));
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.dtype === 'int64' ? 'int64' : 'float32', await v.data(), [...v.shape]);
    const out = await s.run(f);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: [...v.dims] }]));
  } finally {
    await s.release();
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('genaiBuilderDecoder', () => {
  const { model, config } = genaiBuilderDecoder({ seed: 3 });
  const prompt = [[5, 17, 200, 42, 9, 77]];

  it('has the model builder layout: mask reformatting, GroupQueryAttention with rotary caches, (Skip)SimplifiedLayerNormalization, gated MLP', () => {
    const g = model.graph;
    expect(g.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(g.outputs.map((v) => v.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const count = (op: string): number => g.nodes.filter((n) => n.opType === op).length;
    expect([count('GroupQueryAttention'), count('SimplifiedLayerNormalization'), count('SkipSimplifiedLayerNormalization'), count('MatMul')]).toEqual([2, 1, 4, 15]);
    const gqa = g.nodes.find((n) => n.opType === 'GroupQueryAttention')!;
    expect(gqa.domain).toBe('com.microsoft');
    expect(gqa.inputs.slice(5)).toEqual(['/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast/output_0', '/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast/output_0', 'cos_cache', 'sin_cache']);
    expect(g.initializers.get('cos_cache')!.shape).toEqual([64, 8]);
    expect(g.nodes.filter((n) => n.opType === 'MatMul').every((n) => g.initializers.get(n.inputs[1]!)?.dtype === 'float32')).toBe(true);
  });

  it('runs in onnxruntime-node; a step with the cache gives the logits of the whole sequence', async () => {
    const full = await ortRun(model, genaiBuilderFeeds(config, [[...prompt[0]!, 31]]));
    const first = await ortRun(model, genaiBuilderFeeds(config, prompt));
    expect(first['present.0.key']!.dims).toEqual([1, 2, 6, 16]);
    const { tensor } = await import('@whittle/tensor');
    const past = Array.from({ length: 2 }, (_, i) => ['key', 'value'].map((kind) => tensor(first[`present.${i}.${kind}`]!.data, first[`present.${i}.${kind}`]!.dims)) as [Tensor, Tensor]);
    const step = await ortRun(model, genaiBuilderFeeds(config, [[31]], past));
    expect(step.logits!.dims).toEqual([1, 1, 256]);
    expect(maxAbsDiff(step.logits!.data, full.logits!.data.subarray(6 * 256))).toBeLessThan(1e-4);
    expect(maxAbsDiff(step['present.1.value']!.data, full['present.1.value']!.data)).toBeLessThan(1e-5);
  });

});

describeBackends('genaiBuilderDecoder in the interpreter', ({ backend }) => {
  const { model, config } = genaiBuilderDecoder({ seed: 3 });
  const prompt = [[5, 17, 200, 42, 9, 77]];
  for (const tied of [false, true]) {
    it(`gives onnxruntime's logits and presents for a batch-2 prompt and the next step${tied ? ' (tied lm_head)' : ''}`, async () => {
      const m = tied ? genaiBuilderDecoder({ seed: 4, tiedEmbeddings: true }).model : model;
      const first = genaiBuilderFeeds(config, [[...prompt[0]!], [8, 1, 99, 3, 250, 11]]);
      const want = await ortRun(m, first);
      const got = await runModel(m, first, { backend });
      for (const name of ['logits', 'present.0.key', 'present.1.value']) expect(maxAbsDiff(await got.get(name)!.toFloat64(), want[name]!.data), name).toBeLessThan(2e-5);
      // the interpreter's presents (on the backend) feed both runtimes' next step
      const past = await Promise.all(Array.from({ length: 2 }, async (_, i) => Promise.all(['key', 'value'].map(async (kind) => toBackend(got.get(`present.${i}.${kind}`)!, 'cpu'))) as Promise<[Tensor, Tensor]>));
      const next = genaiBuilderFeeds(config, [[31], [64]], past);
      const want2 = await ortRun(m, next);
      const got2 = await runModel(m, next, { backend });
      for (const name of ['logits', 'present.0.value', 'present.1.key']) expect(maxAbsDiff(await got2.get(name)!.toFloat64(), want2[name]!.data), name).toBeLessThan(2e-5);
    });
  }
});
