import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrtFeed } from '@whittle/eval/node';
import { readModelFile } from '@whittle/onnx/node';
import { decoderFeeds, writeDecoderLmExternal } from '@whittle/testing/lm';
import { ortLogits } from './fixtures/ort_logits.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'whittle-source.mjs');
const dir = mkdtempSync(join(tmpdir(), 'whittle-cli-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('whittle quantize stream --float16 (spawned)', () => {
  it('writes float16 weights of an external-data decoder; logits match the float32 model', async () => {
    const lm = writeDecoderLmExternal({ seed: 5, layers: 1, dModel: 32, heads: 4, vocab: 64, maxPositions: 8 }, join(dir, 'lm.onnx'));
    const out = join(dir, 'lm_f16.onnx');
    const r = spawnSync(process.execPath, [bin, 'quantize', 'stream', lm.modelPath, '-o', out, '--float16', '--json'], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { float16: { converted: number; keptFloat32: string[] }; inputDataBytes: number };
    expect(j.float16.keptFloat32).toEqual([]);
    expect(j.inputDataBytes).toBe(lm.parameters * 4);
    const m = await readModelFile(out);
    expect(m.graph.initializers.get('transformer.wte.weight')!.dtype).toBe('float16');
    const feeds = decoderFeeds(lm.config, [[1, 2, 60, 33]]) as Record<string, OrtFeed>;
    const [a, b] = [await ortLogits(lm.modelPath, feeds), await ortLogits(out, feeds)];
    expect(a.every((v, i) => Math.abs(v - b[i]!) < 2e-3)).toBe(true);
  });
});
