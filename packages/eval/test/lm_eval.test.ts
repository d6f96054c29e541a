/**
 * LM evaluation on decoders with a KV cache: sliding windows as Hugging Face's recipe, perplexity
 * against a log-softmax computed here, greedy generation with the cache equal to generation that
 * reruns the whole sequence, the Optimum merged layout, agreement and refusals; the token stream
 * of text read as whole files (what perplexity is measured on) or as lines.
 */
import type { Model } from '@whittle/graph';
import { cloneModel } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { readFileSync } from 'node:fs';
import { optimumDecoder } from '@whittle/testing/exporters';
import { buildDecoderLm, lmZooModel } from '@whittle/testing/lm';
import { describe, expect, it } from 'vitest';
import { DataError, EvaluationError, decoderIo, evaluateDecoders, forwardLogits, generationAgreement, greedyGenerate, lmPrompts, memoryFiles, openData, slidingPerplexity, slidingWindows, textSource, tokenStream } from '../src/index.js';
import { type OrtDecoder, openOrtDecoder } from '../src/node.js';

const open = (m: Model): Promise<OrtDecoder> => openOrtDecoder(writeModel(m), { intraOpNumThreads: 1 });
const stream = (n: number, vocab: number, seed = 1): number[] => Array.from({ length: n }, (_, i) => (i * 37 + seed * 11 + ((i * i) % 13)) % vocab);

/** Weights scaled by (1 + e·noise) deterministic per element: a "compressed" variant. */
function perturbed(m: Model, e: number): Model {
  const c = cloneModel(m);
  for (const [name, t] of c.graph.initializers) {
    if (t.dtype !== 'float32' || t.size < 64) continue;
    const d = Float32Array.from(t.dataSync() as Float32Array, (x, i) => x * (1 + e * Math.sin(i * 12.9898)));
    c.graph.initializers.set(name, tensor(d, [...t.shape], 'float32', { backend: 'cpu' }));
  }
  return c;
}

describe('slidingWindows', () => {
  it('follows the HF recipe: every token after the first scored once, the rest context', () => {
    expect(slidingWindows(10, 4, 2)).toEqual([
      { begin: 0, end: 4, scoreFrom: 1 },
      { begin: 2, end: 6, scoreFrom: 2 },
      { begin: 4, end: 8, scoreFrom: 2 },
      { begin: 6, end: 10, scoreFrom: 2 },
    ]);
    expect(slidingWindows(5, 8, 4)).toEqual([{ begin: 0, end: 5, scoreFrom: 1 }]);
    const scored = (n: number, w: number, s: number): number[] => slidingWindows(n, w, s).flatMap((x) => Array.from({ length: x.end - x.begin - x.scoreFrom }, (_, k) => x.begin + x.scoreFrom + k));
    for (const [n, w, s] of [[37, 8, 3], [9, 2, 1]] as const) expect(scored(n, w, s)).toEqual(Array.from({ length: n - 1 }, (_, k) => k + 1));
    // stride = window (no overlap): the first token of every window has no prediction, as in HF
    expect(scored(64, 16, 16)).toEqual(Array.from({ length: 64 }, (_, k) => k).filter((k) => k % 16 !== 0));
    expect(() => slidingWindows(10, 4, 5)).toThrow(EvaluationError);
    expect(() => slidingWindows(1, 4, 2)).toThrow(/at least 2 tokens/);
  });
});

describe('decoder LM evaluation in onnxruntime-node', () => {
  const lm = buildDecoderLm({ seed: 3, layers: 2, dModel: 32, heads: 4, vocab: 96, maxPositions: 64 });
  const tokens = stream(70, 96);

  it('sliding-window perplexity equals the NLL of each new token given its window, computed here', async () => {
    const s = await open(lm.model);
    try {
      const io = decoderIo(s, 'lm');
      expect(io).toMatchObject({ ids: 'input_ids', mask: 'attention_mask', positions: 'position_ids', cacheBranch: undefined, logits: 'logits', layers: 2 });
      const r = await slidingPerplexity(s, io, tokens, 24, 10);
      let nll = 0;
      for (const w of slidingWindows(tokens.length, 24, 10)) {
        const { data, vocab } = await forwardLogits(s, io, tokens.slice(w.begin, w.end));
        for (let t = w.scoreFrom; t < w.end - w.begin; t++) {
          const row = Array.from(data.subarray((t - 1) * vocab, t * vocab));
          const max = Math.max(...row);
          nll += Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)) + max - row[tokens[w.begin + t]!]!;
        }
      }
      expect(r.tokens).toBe(tokens.length - 1);
      expect(r.windows).toBe(6);
      expect(r.meanNll).toBeCloseTo(nll / (tokens.length - 1), 5);
      expect(r.perplexity).toBeCloseTo(Math.exp(nll / (tokens.length - 1)), 3);
    } finally {
      await s.release();
    }
  });

  it('greedy generation with the KV cache equals rerunning the whole sequence every step', async () => {
    const s = await open(lm.model);
    try {
      const io = decoderIo(s, 'lm');
      const prompt = tokens.slice(5, 17);
      const g = await greedyGenerate(s, io, prompt, 10, { keepLogits: true });
      expect(g.stepMs).toHaveLength(9);
      const seq = [...prompt];
      for (let k = 0; k < 10; k++) {
        const { data, vocab } = await forwardLogits(s, io, seq);
        const last = data.subarray((seq.length - 1) * vocab);
        for (let v = 0; v < vocab; v++) expect(g.logits![k]![v]).toBeCloseTo(last[v]!, 4);
        seq.push(g.tokens[k]!);
      }
    } finally {
      await s.release();
    }
  });

  it('works on the Optimum merged layout (use_cache_branch) with the cache equal to no cache', async () => {
    const s = await open(optimumDecoder({ seed: 5, layers: 2, dModel: 32, heads: 4, vocab: 64 }));
    try {
      const io = decoderIo(s, 'merged');
      expect(io.cacheBranch).toBe('use_cache_branch');
      expect(io.positions).toBeUndefined();
      const prompt = stream(9, 64, 2);
      const g = await greedyGenerate(s, io, prompt, 6, { keepLogits: true });
      const { data, vocab } = await forwardLogits(s, io, [...prompt, ...g.tokens.slice(0, 5)]);
      const last = data.subarray((prompt.length + 4) * vocab);
      for (let v = 0; v < vocab; v++) expect(g.logits![5]![v]).toBeCloseTo(last[v]!, 4);
    } finally {
      await s.release();
    }
  });

  it('compares an original with a variant: agreement from the generations, speed ratios, perplexity', async () => {
    const a = await open(lm.model);
    const b = await open(perturbed(lm.model, 0.3));
    try {
      const r = await evaluateDecoders([{ name: 'fp32', session: a }, { name: 'noisy', session: b }], tokens, { window: 32, stride: 16, prompts: 4, promptLength: 8, newTokens: 6, speedRounds: 2, speedTokens: 4 });
      expect(r.settings).toMatchObject({ tokens: 70, window: 32, stride: 16, prompts: 4 });
      const [orig, noisy] = r.models;
      expect(orig!.agreement).toEqual({ prompts: 4, newTokens: 6, identicalFraction: 1, meanAgreeingPrefix: 6 });
      expect(noisy!.agreement).toEqual(generationAgreement(orig!.generations, noisy!.generations));
      expect(noisy!.perplexity.perplexity).not.toBe(orig!.perplexity.perplexity);
      expect(orig!.speed!.decodeRatio).toBe(1);
      expect(noisy!.speed!.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(noisy!.speed!.decodeRatio).toBeCloseTo(noisy!.speed!.decodeTokensPerSecond / orig!.speed!.decodeTokensPerSecond, 9);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('agreement counts leading equal tokens; bad inputs are refused', async () => {
    expect(generationAgreement([[1, 2, 3], [4, 5, 6]], [[1, 2, 9], [4, 5, 6]])).toEqual({ prompts: 2, newTokens: 3, identicalFraction: 0.5, meanAgreeingPrefix: 2.5 });
    expect(() => generationAgreement([[1]], [[1], [2]])).toThrow(EvaluationError);
    expect(lmPrompts([0, 1, 2, 3, 4, 5], 3, 2)).toEqual([[0, 1], [2, 3], [4, 5]]);
    const s = await openOrtDecoder(writeModel(optimumDecoder({ seed: 1, layers: 1, dModel: 16, heads: 2, vocab: 32 })));
    try {
      expect(() => decoderIo({ ...s, inputNames: [...s.inputNames, 'pixel_values'] }, 'x.onnx')).toThrow(/x.onnx: input 'pixel_values' is none of/);
      expect(() => decoderIo({ ...s, inputNames: ['attention_mask'] }, 'y.onnx')).toThrow(/no 'input_ids'/);
    } finally {
      await s.release();
    }
  });
});

describe('the token stream of text for LM evaluation', () => {
  const zoo = lmZooModel();
  const tokenizer = readFileSync(zoo.tokenizerPath, 'utf8');
  const bpe = zoo.tokenizer(); // Whittle's own byte-level BPE: a reference independent of @huggingface/tokenizers
  const eot = zoo.config.vocab - 1;
  const a = 'interface A {\n    x: number;\n\n    y(): void;\n}\n';
  const b = '// two\n  declare var b: A;\n';
  const files = memoryFiles({ 'a.txt': new TextEncoder().encode(a), 'b.txt': new TextEncoder().encode(b) });
  const stream = (opts: Parameters<typeof textSource>[3]): Promise<number[]> => tokenStream(textSource(files, ['a.txt', 'b.txt'], [], opts));

  it("unit 'file': every file whole, newlines kept, each followed by end-of-text (the stream the LM trained on)", async () => {
    const got = await stream({ tokenizer, length: 8, unit: 'file' });
    expect(got).toEqual(bpe.encode(`${a}<|endoftext|>${b}<|endoftext|>`));
    expect(got.filter((t) => t === eot)).toHaveLength(2);
    // any window length joins back into the same stream
    expect(await stream({ tokenizer, length: 5, unit: 'file' })).toEqual(got);
  });

  it("unit 'line' (the default, for one sample a line): non-empty lines joined by end-of-text, newlines gone", async () => {
    const lines = [...a.split('\n'), ...b.split('\n')].filter((l) => l.trim());
    const got = await stream({ tokenizer, length: 8 });
    expect(got).toEqual(bpe.encode(lines.join('<|endoftext|>')));
    expect(got).not.toEqual(await stream({ tokenizer, length: 8, unit: 'file' }));
  });

  it("a data spec's unit: kept over the task's default, overridden by the user's explicit choice", async () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const specFiles = memoryFiles({ 'd/a.txt': enc(a), 'd/b.txt': enc(b), 'd/tokenizer.json': enc(tokenizer), 'line.yaml': enc('kind: text\npath: d\nlength: 8\nunit: line\n'), 'plain.yaml': enc('kind: text\npath: d\nlength: 8\n') });
    const open = async (spec: string, o: { textUnit?: 'line' | 'file'; defaultTextUnit?: 'line' | 'file' }): Promise<number[]> => tokenStream((await openData(spec, { files: specFiles, inputs: [], ...o })).source);
    const [byFile, byLine] = [await stream({ tokenizer, length: 8, unit: 'file' }), await stream({ tokenizer, length: 8 })];
    expect(await open('plain.yaml', { defaultTextUnit: 'file' })).toEqual(byFile);
    expect(await open('plain.yaml', {})).toEqual(byLine);
    expect(await open('line.yaml', { defaultTextUnit: 'file' })).toEqual(byLine);
    expect(await open('line.yaml', { textUnit: 'file' })).toEqual(byFile);
  });

  it("mode 'lines' with unit 'file': one file per sample, windowed; a bad unit is refused", async () => {
    const src = textSource(files, ['a.txt', 'b.txt'], [], { tokenizer, length: 64, mode: 'lines', unit: 'file', addSpecialTokens: false });
    const samples: number[][] = [];
    for await (const c of src.chunks()) samples.push(Array.from(c.inputs.input_ids!.data as BigInt64Array, Number).filter((_, k) => Number(c.inputs.attention_mask!.data[k]) === 1));
    expect(samples).toEqual([bpe.encode(a), bpe.encode(b)]);
    expect(() => textSource(files, ['a.txt'], [], { tokenizer, unit: 'page' as never })).toThrow(DataError);
    expect(() => textSource(files, ['a.txt'], [], { tokenizer, unit: 'page' as never })).toThrow(/unit must be 'line' or 'file'/);
  });
});
