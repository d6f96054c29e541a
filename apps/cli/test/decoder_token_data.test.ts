/**
 * Token ids alone (.jsonl) for decoders exported with a KV cache: the CLI fills the mask,
 * positions and an empty past, so the ids calibrate and evaluate the model as they are.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModel } from '@whittle/onnx';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-decoder-ids-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('token-id .jsonl for a decoder with a KV cache', () => {
  it('evaluate --task lm measures perplexity and quantize static calibrates on it; the output runs close to the original', async () => {
    const lm = buildDecoderLm({ seed: 2, layers: 1, dModel: 32, heads: 2, vocab: 48, maxPositions: 32 });
    const model = join(dir, 'decoder.onnx');
    writeFileSync(model, writeModel(lm.model));
    const rows = Array.from({ length: 12 }, (_, i) => Array.from({ length: 10 }, (_, t) => (i * 5 + t * 3) % 48));
    const ids = join(dir, 'ids.jsonl');
    writeFileSync(ids, rows.map((r) => JSON.stringify(r)).join('\n'));

    const report = join(dir, 'report');
    const ev = await whittleInProcess('evaluate', model, '--data', ids, '--task', 'lm', '--no-latency', '--report', report);
    expect(ev.code, ev.stderr).toBe(0);
    const metrics = (JSON.parse(readFileSync(join(report, 'report.json'), 'utf8')) as { rows: { metrics: Record<string, number> }[] }).rows[0]!.metrics;
    expect(metrics['tokens']).toBe(12 * 9);
    // an untrained decoder is about as unsure as a uniform guess over its 48 tokens
    expect(metrics['perplexity']).toBeGreaterThan(20);
    expect(metrics['perplexity']).toBeLessThan(100);

    const out = join(dir, 'static.onnx');
    const q = await whittleInProcess('quantize', 'static', model, '--data', ids, '-o', out);
    expect(q.code, q.stderr).toBe(0);
    const feeds = Object.fromEntries(Object.entries(decoderFeeds(lm.config, rows.slice(0, 2))).map(([k, v]) => [k, new ort.Tensor(v.data instanceof Float32Array ? 'float32' : 'int64', v.data, v.dims)]));
    const run = async (p: string): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(p);
      try {
        return (await s.run(feeds)).logits!.data as Float32Array;
      } finally {
        await s.release();
      }
    };
    const [a, b] = [await run(model), await run(out)];
    let d = 0, x = 0, y = 0;
    for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
    expect(d / Math.sqrt(x * y)).toBeGreaterThan(0.99);
  });
});
