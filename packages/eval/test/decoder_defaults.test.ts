import { describe, expect, it } from 'vitest';
import { batchesOf, memoryFiles, openData, type ModelInputSpec } from '../src/index.js';

const decoder: ModelInputSpec[] = [
  { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
  { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'past_sequence_length + sequence_length'] },
  { name: 'position_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
  { name: 'past_key_values.0.key', elemType: 'float32', shape: ['batch_size', 2, 'past_sequence_length', 8] },
  { name: 'past_key_values.0.value', elemType: 'float32', shape: ['batch_size', 2, 'past_sequence_length', 8] },
];
const values = (t: { dataSync(): unknown }): number[] => Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);

describe('token ids for a decoder with a KV cache', () => {
  it('fill its other inputs as a first step: mask of ones, positions 0..S-1, an empty past', async () => {
    const files = memoryFiles({ 'ids.jsonl': new TextEncoder().encode('[5, 6, 7]\n[1, 2, 3]\n') });
    const { source } = await openData('ids.jsonl', { files, inputs: decoder });
    const batches = [];
    for await (const b of batchesOf(source, { inputs: decoder })) batches.push(b);
    expect(batches).toHaveLength(1);
    const f = batches[0]!.feeds;
    expect(values(f.input_ids!)).toEqual([5, 6, 7, 1, 2, 3]);
    expect([...f.attention_mask!.shape, ...values(f.attention_mask!)]).toEqual([2, 3, 1, 1, 1, 1, 1, 1]);
    expect([...f.position_ids!.shape, ...values(f.position_ids!)]).toEqual([2, 3, 0, 1, 2, 0, 1, 2]);
    expect(f['past_key_values.0.key']!.shape).toEqual([2, 2, 0, 8]);
    expect(f['past_key_values.0.value']!.dtype).toBe('float32');
  });

  it("a merged decoder's use_cache_branch is false; inputs of no known first-step value still fail naming them", async () => {
    const merged = [...decoder, { name: 'use_cache_branch', elemType: 'bool', shape: [1] }];
    const files = memoryFiles({ 'ids.jsonl': new TextEncoder().encode('[5, 6]\n') });
    const { source } = await openData('ids.jsonl', { files, inputs: merged });
    for await (const b of batchesOf(source, { inputs: merged })) expect([...b.feeds.use_cache_branch!.shape, ...values(b.feeds.use_cache_branch!)]).toEqual([1, 0]);
    const odd = [...decoder, { name: 'encoder_hidden_states', elemType: 'float32', shape: ['batch_size', 'encoder_sequence_length', 8] }];
    const { source: s2 } = await openData('ids.jsonl', { files, inputs: odd });
    await expect((async () => { for await (const _ of batchesOf(s2, { inputs: odd })) void _; })()).rejects.toThrow(/no data for model input\(s\) 'attention_mask', 'position_ids', 'past_key_values\.0\.key', 'past_key_values\.0\.value', 'encoder_hidden_states'/);
    // an encoder (no cache) keeps refusing ids without its attention mask
    const encoder = decoder.slice(0, 2).map((s) => ({ ...s, shape: ['batch_size', 'sequence_length'] }));
    const { source: s3 } = await openData('ids.jsonl', { files, inputs: encoder });
    await expect((async () => { for await (const _ of batchesOf(s3, { inputs: encoder })) void _; })()).rejects.toThrow(/no data for model input\(s\) 'attention_mask'/);
  });
});
