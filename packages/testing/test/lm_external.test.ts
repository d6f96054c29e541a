import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOrtRunner, type OrtFeed, type OrtModelSource } from '@whittle/eval/node';
import { writeModel } from '@whittle/onnx';
import { buildDecoderLm, decoderFeeds, writeDecoderLmExternal } from '../src/lm/index.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-lm-external-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(m: OrtModelSource, feeds: Record<string, OrtFeed>): Promise<Float32Array> {
  const r = await createOrtRunner(m);
  try {
    return (await r.run(feeds))['logits']!.data as Float32Array;
  } finally {
    await r.release();
  }
}

describe('writeDecoderLmExternal', () => {
  it('writes the same decoder as buildDecoderLm with every weight in the external data file', async () => {
    const o = { seed: 3, layers: 2, dModel: 32, heads: 4, vocab: 200, maxPositions: 16 };
    const ext = writeDecoderLmExternal(o, join(dir, 'lm.onnx'));
    const inline = buildDecoderLm(o);
    // the .onnx holds references only: its size is the graph, not the weights
    expect(statSync(ext.modelPath).size).toBeLessThan(64 * 1024);
    expect(ext.dataBytes).toBeGreaterThanOrEqual(ext.parameters * 4);
    expect(ext.largestTensor).toBe(4 * o.vocab * o.dModel); // the token table: 200 x 32 > 32 x 128
    const feeds = decoderFeeds(inline.config, [[5, 170, 90, 3]]) as Record<string, OrtFeed>;
    const a = await logits(ext.modelPath, feeds);
    const b = await logits(writeModel(inline.model), feeds);
    expect(a.length).toBe(4 * o.vocab);
    expect([...a]).toEqual([...b]);
  });
});
