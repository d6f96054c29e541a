/**
 * `--text-unit` of the training commands: `whittle fine-tune` and `whittle distill --loss lm` on
 * a .txt read it as one document (the file with its newlines, then end-of-text) — the token stream
 * a decoder is trained on — as `evaluate --task lm` does; `--text-unit line` and distillation on
 * the teacher's outputs (kl) keep a line a document, lines joined by end-of-text. The training data
 * the pass receives is taken from its `run` in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Model, type TrainingData, getPass } from '@whittle/graph';
import '@whittle/distill';
import { loadTextTokenizer } from '@whittle/eval';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { buildDecoderLm } from '@whittle/testing/lm';
import { addDistillCommand } from '../src/commands/distill.js';
import { addTechniqueCommands } from '../src/commands/run_pass.js';
import { TINY_VOCAB, tinyTokenizer } from './fixtures/tiny_lm.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-text-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 100 short lines: as lines joined by end-of-text they take one window (of 128) more than as a file
const lines = Array.from({ length: 100 }, (_, l) => Array.from({ length: 3 }, (_, k) => `w${(l * 7 + k * 31) % (TINY_VOCAB - 2)}`).join(' '));
const text = `${lines.join('\n')}\n`;
const corpus = join(dir, 'corpus.txt');
writeFileSync(corpus, text);
writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer()));
const model = join(dir, 'lm.onnx');
writeFileSync(model, writeModel(untiedDecoder()));

/**
 * A one-layer decoder whose LM head reads its own copy of the token table (training writes a tied
 * table back as two copies, which the commands refuse as grown weights).
 */
function untiedDecoder(): Model {
  const m = buildDecoderLm({ seed: 5, layers: 1, dModel: 16, heads: 2, vocab: TINY_VOCAB, maxPositions: 128 }).model;
  const g = m.graph;
  const t = g.nodes.find((n) => n.opType === 'Transpose' && g.initializers.has(n.inputs[0]!))!;
  const table = g.initializers.get(t.inputs[0]!)!;
  g.initializers.set('lm_head.weight', tensor(Float32Array.from(table.dataSync() as Float32Array), [...table.shape], 'float32', { backend: 'cpu' }));
  t.inputs[0] = 'lm_head.weight';
  return m;
}

const tok = loadTextTokenizer(tinyTokenizer());
const eot = tok.separatorId!;
/** The whole file tokenized, then end-of-text. */
const wholeFile = [...tok.encode(text, false).ids, eot];
/** Every line tokenized, end-of-text between them. */
const joinedLines = lines.flatMap((l, i) => [...(i ? [eot] : []), ...tok.encode(l, false).ids]);

/** The token stream of training windows: each window's ids where its attention mask is 1. */
function stream(t: TrainingData): { tokens: number[]; windows: number } {
  const ids = t.feeds!['input_ids']!;
  const mask = t.feeds!['attention_mask']!;
  const [n, len] = ids.shape as [number, number];
  const tokens: number[] = [];
  for (let i = 0; i < n * len; i++) if (Number(mask.data[i]!) === 1) tokens.push(Number(ids.data[i]!));
  return { tokens, windows: n };
}

/** Run `whittle <args>` in this process; the training data `pass` received. */
async function trainingOf(pass: string, args: string[]): Promise<TrainingData> {
  const p = getPass(pass);
  const run = p.run.bind(p);
  let seen: TrainingData | undefined;
  const spy = vi.spyOn(p, 'run').mockImplementation(async (m, ctx) => {
    seen = ctx.training;
    return run(m, ctx);
  });
  const program = new Command('whittle').exitOverride();
  addTechniqueCommands(program);
  addDistillCommand(program);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
    spy.mockRestore();
  }
  expect(seen).toBeDefined();
  return seen!;
}

describe('--text-unit for training on raw text', () => {
  it('the tokenizer gives one window more for the lines joined by end-of-text than for the file (the test can tell them apart)', () => {
    expect(Math.ceil(joinedLines.length / 128)).toBe(Math.ceil(wholeFile.length / 128) + 1);
  });

  it('fine-tune reads a .txt whole by default: its windows hold the file tokenized whole, then end-of-text; --text-unit line gives the lines', async () => {
    const file = stream(await trainingOf('fine-tune', ['fine-tune', model, '--data', corpus, '--epochs', '1', '-o', join(dir, 'ft.onnx'), '--json']));
    expect(file).toEqual({ tokens: wholeFile, windows: Math.ceil(wholeFile.length / 128) });
    const line = stream(await trainingOf('fine-tune', ['fine-tune', model, '--data', corpus, '--epochs', '1', '--text-unit', 'line', '-o', join(dir, 'ft_lines.onnx'), '--json']));
    expect(line).toEqual({ tokens: joinedLines, windows: Math.ceil(joinedLines.length / 128) });
  }, 60_000);

  it('distill --loss lm reads the file whole; distillation on the teacher\'s outputs (kl, the default) keeps lines', async () => {
    const lm = stream(await trainingOf('distill', ['distill', model, '--teacher', model, '--data', corpus, '--loss', 'lm', '--epochs', '1', '-o', join(dir, 'kd_lm.onnx'), '--json']));
    expect(lm).toEqual({ tokens: wholeFile, windows: Math.ceil(wholeFile.length / 128) });
    const kl = stream(await trainingOf('distill', ['distill', model, '--teacher', model, '--data', corpus, '--epochs', '1', '-o', join(dir, 'kd.onnx'), '--json']));
    expect(kl).toEqual({ tokens: joinedLines, windows: Math.ceil(joinedLines.length / 128) });
  }, 60_000);
});
