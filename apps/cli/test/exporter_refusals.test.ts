/**
 * Exporter-style graphs where a command has nothing it can do, or the data does not fit the
 * loss: each run stops with a message naming why and what to run instead, and writes nothing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeModel } from '@whittle/onnx';
import { optimumDecoder, torchTransformerEncoder } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-exporter-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const decoder = join(dir, 'decoder_model_merged.onnx');
writeFileSync(decoder, writeModel(optimumDecoder({ seed: 1, layers: 1, dModel: 16, heads: 2, vocab: 32 })));
const encoder = join(dir, 'encoder.onnx');
writeFileSync(encoder, writeModel(torchTransformerEncoder({ seed: 1, layers: 1, dModel: 16, heads: 2, ffn: 32, vocab: 50 })));

describe('commands on exporter-style graphs they cannot change', () => {
  it('training passes on a merged decoder (every weight read inside the If branches) name the subgraphs instead of failing in the optimizer', async () => {
    const runs: [string, string[]][] = [
      ['qat', ['quantize', 'qat', decoder]],
      ['gradual', ['prune', 'gradual', decoder]],
      ['distill', ['distill', decoder, '--teacher', decoder]],
      ['fine-tune', ['fine-tune', decoder]],
    ];
    for (const [name, args] of runs) {
      const out = join(dir, `${name}.onnx`);
      const r = await whittleInProcess(...args, '--data', 'synthetic:4', '--epochs', '1', '-o', out);
      expect(r.code, `${name}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr).toMatch(/NoCompressionError/);
      expect(r.stderr).toMatch(/inside (a subgraph|If\/Loop\/Scan subgraphs)/);
      expect(r.stderr).not.toMatch(/Adam|no parameters given/);
      if (name === 'gradual') expect(r.stderr).toMatch(/skipped: training updates main-graph weights only/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('factorize conv on an encoder without convolutions names the MatMul layers and lowrank-linear', async () => {
    const out = join(dir, 'conv.onnx');
    const r = await whittleInProcess('factorize', 'conv', encoder, '-o', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/0 Conv nodes with a constant weight \(the model has 6 MatMul\/Gemm layers: factorize them with lowrank-linear\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('fine-tune on bare token ids of an encoder (hidden states, no vocabulary logits) names the output and --loss-output', async () => {
    const ids = join(dir, 'ids.jsonl');
    writeFileSync(ids, Array.from({ length: 8 }, (_, i) => JSON.stringify(Array.from({ length: 6 }, (_, t) => (i * 7 + t * 5) % 50))).join('\n'));
    const out = join(dir, 'ft.onnx');
    const r = await whittleInProcess('fine-tune', encoder, '--data', ids, '--epochs', '1', '-o', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/next-token loss: the token ids go up to 4\d, but the output 'last_hidden_state' \[8, 6, 16\] scores 16 classes on axis 2; .*--loss-output/);
    expect(existsSync(out)).toBe(false);
  });
});
