/**
 * Models other tools exported, as the page evaluates them without data: its seeded random
 * samples fit their inputs (run in onnxruntime-node batch by batch as the worker slices them),
 * and the output it reads is one onnxruntime-web can fetch.
 */
import { maxBatchSize, sliceBatch } from '@whittle/eval';
import { writeModel } from '@whittle/onnx';
import { CORPUS, PREQUANTIZED_CORPUS, corpusBytes } from '@whittle/testing/corpus';
import { optimumDecoder, sklearnMlpClassifier } from '@whittle/testing/exporters';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { sampleDataset } from '../src/data/sample_data.js';
import { analyzeModel } from '../src/worker/analyze.js';
import { asFloat32, evaluatedOutput, outputFidelity, rowLength } from '../src/worker/ort_output.js';
import { feedBatches } from '../src/worker/pass_data.js';

/** Run every batch of the page's random samples through onnxruntime-node; the outputs it reads per batch. */
async function runSamples(bytes: Uint8Array, count: number, batchSize: number): Promise<{ batches: number; output: string; values: number }> {
  const { inputs } = await analyzeModel(bytes);
  const { dataset } = await sampleDataset(inputs, count, 0);
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const output = evaluatedOutput(s.outputMetadata as { name: string; isTensor: boolean; type?: string }[]);
  const batch = maxBatchSize(dataset, batchSize);
  let batches = 0;
  let values = 0;
  for (let i = 0; i < count; i += batch) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(sliceBatch(dataset, i, Math.min(batch, count - i)))) feeds[name] = new ort.Tensor((f.type ?? (f.data instanceof BigInt64Array ? 'int64' : 'float32')) as 'float32', f.data as Float32Array, f.dims);
    const out = (await s.run(feeds, [output]))[output]!;
    values += asFloat32(out.data, out.type).length;
    batches++;
  }
  await s.release();
  return { batches, output, values };
}

const corpus = (id: string): Uint8Array => corpusBytes(CORPUS.find((m) => m.id === id)!);

describe('random samples fit third-party models', () => {
  test('Silero VAD (state [2, 1, 128] and a scalar sample rate, no batch axis of their own): whole feeds, one per run, sr from the values the graph compares', async () => {
    const bytes = corpus('vad-v5');
    const { inputs } = await analyzeModel(bytes);
    expect(inputs.find((i) => i.name === 'sr')!.comparedWith).toEqual(expect.arrayContaining([16000]));
    const { dataset } = await sampleDataset(inputs, 3, 0);
    expect(dataset.inputs['state']).toMatchObject({ sampleShape: [2, 1, 128], wholeFeed: true });
    expect(dataset.inputs['sr']!.sampleShape).toEqual([]);
    expect([...(dataset.inputs['sr']!.data as BigInt64Array)].every((v) => v === 16000n || v === 8000n)).toBe(true);
    expect(await runSamples(bytes, 3, 64)).toMatchObject({ batches: 3, output: 'output' });
    // calibration batches of such a model are single samples too
    expect(feedBatches(dataset, 3).map((f) => f['state']!.shape)).toEqual([[2, 1, 128], [2, 1, 128], [2, 1, 128]]);
  });

  test('openWakeWord melspectrogram (audio [batch, samples]): a signal long enough for its 512-sample STFT', async () => {
    const r = await runSamples(corpus('oww-melspec'), 4, 64);
    expect(r.batches).toBe(1);
    expect(r.values).toBeGreaterThan(0);
  });

  test('Moonshine tiny encoder (audio [batch, samples] through strided convolutions 127/64, 7/3, 3/2): a signal long enough that no length collapses to 0', async () => {
    const bytes = corpusBytes(PREQUANTIZED_CORPUS.find((m) => m.id === 'moonshine-encoder')!);
    const { inputs } = await analyzeModel(bytes);
    // 512 samples leave the third convolution nothing; the smallest doubling that fits is 1024 (895 is the exact minimum)
    expect(inputs.find((i) => i.name === 'input_values')!.minDims).toEqual({ 1: 1024 });
    const r = await runSamples(bytes, 2, 64);
    expect(r.output).toBe('last_hidden_state');
    expect(r.values).toBeGreaterThan(0);
  });

  test('an Optimum merged decoder (KV cache, use_cache_branch): an empty cache and a consistent attention mask', async () => {
    const bytes = writeModel(optimumDecoder({ seed: 1, vocab: 64, layers: 2, dModel: 64, heads: 4 }));
    const r = await runSamples(bytes, 4, 64);
    expect(r.output).toBe('logits');
    expect(r.values).toBe(4 * 64 * 16);
  });

  test('a skl2onnx classifier with ZipMap: the label tensor is read, the sequence of maps is not fetched', async () => {
    const bytes = writeModel(sklearnMlpClassifier({ seed: 1 }));
    const s = await ort.InferenceSession.create(bytes);
    const meta = s.outputMetadata as { name: string; isTensor: boolean; type?: string }[];
    expect(meta.map((m) => m.isTensor)).toEqual([true, false]);
    expect(evaluatedOutput(meta)).toBe('output_label');
    await s.release();
    const r = await runSamples(bytes, 8, 64);
    expect(r).toMatchObject({ batches: 1, values: 8 });
  });
});

describe('evaluated output', () => {
  test('first float tensor, else first tensor; none is refused naming the outputs', () => {
    expect(evaluatedOutput([{ name: 'label', isTensor: true, type: 'int64' }, { name: 'probabilities', isTensor: true, type: 'float32' }])).toBe('probabilities');
    expect(evaluatedOutput([{ name: 'zipmap', isTensor: false }, { name: 'label', isTensor: true, type: 'int64' }])).toBe('label');
    expect(() => evaluatedOutput([{ name: 'zipmap', isTensor: false }])).toThrow(/outputs \('zipmap'\) is a tensor/);
  });

  test('values as float32: float16 bits decoded, bigint labels converted', () => {
    expect([...asFloat32(Uint16Array.of(0x3c00, 0xc000), 'float16')]).toEqual([1, -2]);
    expect([...asFloat32(BigInt64Array.of(3n, 7n), 'int64')]).toEqual([3, 7]);
  });

  test('rows: the last dim of [batch, …, C]; one value per sample for a [batch] output, whose agreement is the fraction of equal values', () => {
    expect(rowLength([8, 10])).toBe(10);
    expect(rowLength([8])).toBe(1);
    const f = outputFidelity(Float32Array.of(0, 1, 2, 1), Float32Array.of(0, 1, 1, 1), 1);
    expect(f.top1Agreement).toBe(0.75);
    expect(outputFidelity(Float32Array.of(0, 1, 2, 0), Float32Array.of(1, 0, 1, 0), 2).top1Agreement).toBe(0.5);
    // one score per row (Silero VAD's speech probability): agreement is the same decision at 0.5
    expect(outputFidelity(Float32Array.of(0.1, 0.7, 0.45, 0.9), Float32Array.of(0.11, 0.69, 0.52, 0.2), 1).top1Agreement).toBe(0.5);
    // a logit: the same sign
    expect(outputFidelity(Float32Array.of(-2.5, 1.5, 3.25), Float32Array.of(-2.25, 1.25, -0.5), 1).top1Agreement).toBeCloseTo(2 / 3, 12);
  });
});
