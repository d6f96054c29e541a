/**
 * `whittle evaluate --task lm` on decoders with a KV cache, through the spawned CLI: perplexity
 * over sliding windows (only new tokens scored) equal to a log-softmax computed here, greedy
 * generation agreement with the first model, tokens/s, the LM line in report and model card.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { type EvaluationReport, decoderIo, forwardLogits, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = ['whittle-source.mjs', 'whittle.mjs'].map((f) => join(here, '..', 'bin', f)).find((f) => existsSync(f))!;
const dir = mkdtempSync(join(tmpdir(), 'whittle-lm-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate --task lm on a KV-cache decoder', () => {
  it('sliding-window perplexity, greedy agreement with the first model, tokens/s; report and model card', async () => {
    const src = writeTinyLm(dir);
    const folder = join(dir, 'tiny');
    await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: folder, variants: 'fp32,q4' });
    const text = join(dir, 'text');
    mkdirSync(text);
    const lines = Array.from({ length: 6 }, (_, l) => Array.from({ length: 9 + l }, (_, k) => `w${(l * 17 + k * k * 5 + k) % 94}`).join(' '));
    writeFileSync(join(text, 'corpus.txt'), `${lines.join('\n')}\n`);
    writeFileSync(join(text, 'tokenizer.json'), readFileSync(src.tokenizer));
    writeFileSync(join(text, 'spec.yaml'), 'kind: text\npath: corpus.txt\nlength: 24\n');
    const models = [join(folder, 'onnx', 'model.onnx'), join(folder, 'onnx', 'model_q4.onnx')];
    const r = spawnSync(process.execPath, [bin, 'evaluate', ...models, '--data', join(text, 'spec.yaml'), '--task', 'lm', '--stride', '10', '--prompts', '3', '--prompt-length', '6', '--gen-tokens', '5', '--report', join(dir, 'report'), '--json'], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as EvaluationReport;
    // the stream: lines joined by <|endoftext|> (id 0), as the text source packs them
    const stream = lines.flatMap((l, i) => [...(i ? [0] : []), ...l.split(' ').map((w) => Number(w.slice(1)) + 2)]);
    expect(rep.lm).toMatchObject({ tokens: stream.length, window: 24, stride: 10, prompts: 3, promptLength: 6, newTokens: 5 });
    // Hugging Face's recipe written out here: windows of 24 every 10, scoring the tokens after the previous window's end
    const perplexityOf = async (path: string): Promise<number> => {
      const s = await openOrtDecoder(path);
      let nll = 0;
      let n = 0;
      let prevEnd = 0;
      for (let begin = 0; begin < stream.length; begin += 10) {
        const end = Math.min(begin + 24, stream.length);
        const ids = stream.slice(begin, end);
        const { data, vocab } = await forwardLogits(s, decoderIo(s, path), ids);
        for (let t = Math.max(1, prevEnd - begin); t < ids.length; t++) {
          const row = Array.from(data.subarray((t - 1) * vocab, t * vocab));
          const m = Math.max(...row);
          nll += Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0)) + m - row[ids[t]!]!;
          n++;
        }
        prevEnd = end;
        if (end === stream.length) break;
      }
      await s.release();
      return Math.exp(nll / n);
    };
    for (const [i, p] of models.entries()) expect(rep.rows[i]!.metrics!.perplexity).toBeCloseTo(await perplexityOf(p), 3);
    expect(rep.rows[0]!.metrics).toMatchObject({ 'greedyIdentical@5': 1, greedyAgreeingPrefix: 5, decodeSpeedVsBase: 1 });
    // q4's agreement, recomputed from generations run here on the same prompts (evenly spaced over the stream)
    const gens = async (path: string): Promise<number[][]> => {
      const s = await openOrtDecoder(path);
      const out: number[][] = [];
      for (const at of [0, Math.round((stream.length - 6) / 2), stream.length - 6]) out.push((await greedyGenerate(s, decoderIo(s, path), stream.slice(at, at + 6), 5)).tokens);
      await s.release();
      return out;
    };
    const [g0, g1] = [await gens(models[0]!), await gens(models[1]!)];
    const prefix = g0.map((g, k) => g.findIndex((t, j) => t !== g1[k]![j]!)).map((x) => (x < 0 ? 5 : x));
    expect(rep.rows[1]!.metrics!.greedyAgreeingPrefix).toBeCloseTo(prefix.reduce((a, b) => a + b, 0) / 3, 9);
    expect(rep.rows[1]!.metrics!['greedyIdentical@5']).toBeCloseTo(prefix.filter((x) => x === 5).length / 3, 9);
    for (const row of rep.rows) expect(row.metrics!['decodeTokens/s']).toBeGreaterThan(0);
    const md = readFileSync(join(dir, 'report', 'report.md'), 'utf8');
    expect(md).toContain('LM evaluation: perplexity over');
    const card = readFileSync(join(dir, 'report', 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/LM evaluation: .*greedy generation of 5 tokens/);
    expect(card).toMatch(/\| decodeTokens\/s \| /);
  }, 120_000);
});
