/**
 * `whittle evaluate --task lm` on decoders with a KV cache, through the spawned CLI: perplexity
 * over sliding windows (only new tokens scored) equal to a log-softmax computed here, greedy
 * generation agreement with the first model, tokens/s, the LM line in report and model card;
 * text read as whole files (newlines kept, each followed by end-of-text), so the zoo LM's
 * perplexity on held-out files equals the one @whittle/eval computes on the bench's token stream.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '@whittle/quantize';
import { type EvaluationReport, decoderIo, forwardLogits, greedyGenerate, openOrtDecoder, slidingPerplexity } from '@whittle/eval/node';
import { lmCorpus, lmZooModel } from '@whittle/testing/lm';
import { addEvaluateCommand } from '../src/commands/evaluate.js';
import { lmEvaluationSkipped } from '../src/commands/evaluate_lm.js';
import { GraphBuilder } from '@whittle/graph';
import { textUnitFor } from '../src/data.js';
import { UsageError } from '../src/errors.js';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = ['whittle-source.mjs', 'whittle.mjs'].map((f) => join(here, '..', 'bin', f)).find((f) => existsSync(f))!;
const dir = mkdtempSync(join(tmpdir(), 'whittle-lm-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluate --task lm on a decoder the KV-cache evaluation does not run', () => {
  it('says why and which flags went unused: a seq2seq decoder (past_key_values.N.decoder.key), a decoder without cache', () => {
    const decoder = (names: string[]): ReturnType<GraphBuilder['model']> => {
      const b = new GraphBuilder('d');
      for (const n of names) b.input(n, n === 'input_ids' ? 'int64' : 'float32', ['batch', 'seq']);
      b.output(b.node('Identity', ['input_ids']), 'int64', ['batch', 'seq']);
      return b.model();
    };
    const whisper = lmEvaluationSkipped(decoder(['input_ids', 'encoder_hidden_states', 'past_key_values.0.decoder.key', 'past_key_values.0.decoder.value', 'past_key_values.0.encoder.key']), { prompts: 4, genTokens: 8 });
    expect(whisper).toMatch(/its cache inputs are named past_key_values\.0\.decoder\.key, past_key_values\.0\.decoder\.value, … \(an encoder-decoder's decoder/);
    expect(whisper).toMatch(/teacher-forced perplexity over the data's windows only; --prompts, --gen-tokens not used$/);
    expect(lmEvaluationSkipped(decoder(['input_ids']), {})).toMatch(/it has no past_key_values inputs: measured teacher-forced perplexity over the data's windows only$/);
  });
});

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
    // the stream: the file whole (the word-level tokenizer drops the newlines), then <|endoftext|> (id 0)
    const stream = [...lines.flatMap((l) => l.split(' ').map((w) => Number(w.slice(1)) + 2)), 0];
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

  it('reads whole files: the zoo LM on held-out text gives the perplexity @whittle/eval gives on the bench\'s token stream', async () => {
    const zoo = lmZooModel();
    const text = join(dir, 'held-out');
    mkdirSync(text);
    // the first ~1500 characters (whole lines) of two held-out files: newlines and indentation matter to the LM
    const docs = lmCorpus().heldOut.slice(0, 2).map((f) => f.text.slice(0, f.text.indexOf('\n', 1500) + 1));
    docs.forEach((d, i) => writeFileSync(join(text, `doc${i}.txt`), d));
    writeFileSync(join(text, 'tokenizer.json'), readFileSync(zoo.tokenizerPath));
    writeFileSync(join(text, 'spec.yaml'), `kind: text\npath: .\nlength: ${zoo.config.maxPositions}\n`);
    // the evaluate command in this process (a spawned CLI costs seconds of start-up; the first test spawns one)
    const program = new Command('whittle').exitOverride();
    addEvaluateCommand(program);
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true));
    try {
      await program.parseAsync(['evaluate', zoo.path, '--data', join(text, 'spec.yaml'), '--task', 'lm', '--window', '64', '--stride', '32', '--prompts', '1', '--gen-tokens', '2', '--no-latency', '--json'], { from: 'user' });
    } finally {
      write.mockRestore();
    }
    const rep = JSON.parse(out) as EvaluationReport;
    // the bench's stream (lm_quality): each file followed by <|endoftext|>, tokenized by Whittle's own BPE encoder
    const stream = zoo.tokenizer().encode(docs.map((d) => `${d}<|endoftext|>`).join(''));
    expect(stream.filter((t) => t === zoo.config.vocab - 1)).toHaveLength(2);
    expect(rep.lm).toMatchObject({ tokens: stream.length, window: 64, stride: 32 });
    const s = await openOrtDecoder(zoo.path, { intraOpNumThreads: 1 });
    const want = await slidingPerplexity(s, decoderIo(s, zoo.path), stream, 64, 32);
    await s.release();
    expect(rep.rows[0]!.metrics!.tokens).toBe(want.tokens);
    expect(rep.rows[0]!.metrics!.perplexity).toBeCloseTo(want.perplexity, 6);
    expect(rep.dataset?.split).toMatch(/whole files packed, each followed by token 1023/);
  }, 60_000);

  it('--text-unit: whole files by default for --task lm only; the flag wins over a data spec; a bad unit is a usage error', () => {
    expect(textUnitFor(undefined, true)).toEqual({ defaultTextUnit: 'file' });
    expect(textUnitFor(undefined, false)).toEqual({});
    expect(textUnitFor('line', true)).toEqual({ textUnit: 'line' });
    expect(() => textUnitFor('page', true)).toThrow(UsageError);
    expect(() => textUnitFor('page', true)).toThrow(/--text-unit must be line or file, got 'page'/);
  });
});
