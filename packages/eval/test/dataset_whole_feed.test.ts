/** Datasets whose inputs have no batch axis of their own: each sample is a whole feed. */
import { describe, expect, test } from 'vitest';
import { type EvalDataset, datasetSize, maxBatchSize, sliceBatch, takeSamples } from '../src/dataset.js';

const ds: EvalDataset = {
  inputs: {
    input: { data: Float32Array.from({ length: 3 * 4 }, (_, i) => i), sampleShape: [1, 4], wholeFeed: true },
    state: { data: Float32Array.from({ length: 3 * 2 * 1 * 2 }, (_, i) => 100 + i), sampleShape: [2, 1, 2], wholeFeed: true },
    sr: { data: BigInt64Array.from([16000n, 8000n, 16000n]), sampleShape: [], wholeFeed: true },
  },
};

describe('whole-feed dataset inputs', () => {
  test('one sample per batch, fed with its own shape (a scalar stays rank 0)', () => {
    expect(datasetSize(ds)).toBe(3);
    expect(maxBatchSize(ds, 64)).toBe(1);
    const b = sliceBatch(ds, 1, 1);
    expect(b['input']!.dims).toEqual([1, 4]);
    expect([...b['input']!.data]).toEqual([4, 5, 6, 7]);
    expect(b['state']!.dims).toEqual([2, 1, 2]);
    expect([...b['state']!.data]).toEqual([104, 105, 106, 107]);
    expect(b['sr']!.dims).toEqual([]);
    expect([...(b['sr']!.data as BigInt64Array)]).toEqual([8000n]);
  });

  test('a batch of several samples is refused, naming the input', () => {
    expect(() => sliceBatch(ds, 0, 2)).toThrow(/input 'input' has no batch axis .* not 2/);
  });

  test('batched inputs are unchanged; takeSamples keeps the flag', () => {
    const batched: EvalDataset = { inputs: { x: { data: new Float32Array(6), sampleShape: [3] } } };
    expect(maxBatchSize(batched, 64)).toBe(64);
    expect(sliceBatch(batched, 0, 2)['x']!.dims).toEqual([2, 3]);
    expect(takeSamples(ds, 2).inputs['state']!.wholeFeed).toBe(true);
    expect(sliceBatch(takeSamples(ds, 2), 1, 1)['state']!.dims).toEqual([2, 1, 2]);
  });
});

describe('empty inputs', () => {
  test("a first-step KV cache [1, heads, 0, d] holds no values and fits every sample; the others give the count", () => {
    const ds: EvalDataset = {
      inputs: {
        input_ids: { data: BigInt64Array.from({ length: 2 * 3 }, () => 1n), sampleShape: [1, 3], wholeFeed: true },
        'past_key_values.0.key': { data: new Float32Array(0), sampleShape: [1, 4, 0, 16], wholeFeed: true },
      },
    };
    expect(datasetSize(ds)).toBe(2);
    const b = sliceBatch(ds, 1, 1);
    expect(b['past_key_values.0.key']!.dims).toEqual([1, 4, 0, 16]);
    expect(b['past_key_values.0.key']!.data.length).toBe(0);
    expect(() => datasetSize({ inputs: { past: { data: new Float32Array(0), sampleShape: [4, 0] } } })).toThrow(/every input is empty/);
    expect(() => datasetSize({ inputs: { x: { data: new Float32Array(3), sampleShape: [4, 0] } } })).toThrow(/holds 3 values/);
  });
});
