/**
 * End to end through the CLI on the user's kind of data: a CNN calibrated from an image folder and
 * evaluated on a labelled one; GPTQ vs RTN int4 on a transformer from token data; perplexity of a
 * decoder on raw text with its tokenizer.json; user metric modules. The commands run in this
 * process, started in the data folder as the bin would be (seconds of start-up saved apiece); the
 * run that loads a user metric module goes through the bin, where Node (not the test runner) loads
 * the module.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeModel } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng } from '@whittle/tensor';
import { optimumDecoder, torchTransformerEncoder } from '@whittle/testing/exporters';
import { ZOO_DIR, cacheName, mnistData } from '@whittle/testing/zoo';
import { whittleInProcessAt } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
// fast-png is a dependency of @whittle/eval (its image reader), not of the CLI: resolve it from there
const { encode: encodePng } = createRequire(join(here, '..', '..', '..', 'packages', 'eval', 'package.json'))('fast-png') as { encode(img: { width: number; height: number; data: Uint8Array; channels: number; depth: number }): Uint8Array };
// the TypeScript sources (bin/whittle-source.mjs), or bin/whittle.mjs where that runs them itself
const bin = ['whittle-source.mjs', 'whittle.mjs'].map((f) => join(here, '..', 'bin', f)).find((f) => existsSync(f))!;
const dir = mkdtempSync(join(tmpdir(), 'whittle-task-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function whittle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `whittle ...args` in this process, started in the test's folder. */
const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => whittleInProcessAt(dir, ...args);

/**
 * The transformer encoder, its token data (64 calibration and 48 held-out sequences) and its RTN
 * int4 weights, made once by whichever test needs them first.
 */
let encoderRun: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
const encoder = (): Promise<{ code: number; stdout: string; stderr: string }> =>
  (encoderRun ??= (async () => {
    const enc = join(dir, 'encoder.onnx');
    writeFileSync(enc, writeModel((await normalizeModel(torchTransformerEncoder({ vocab: 200, layers: 2, dModel: 64, heads: 4, ffn: 256, seed: 3 }))).model));
    const rng = new Rng(11);
    // token ids with a skewed (Zipf-like) distribution, 16 per sequence
    const seq = (): number[] => Array.from({ length: 16 }, () => Math.min(199, Math.floor(Math.exp(rng.uniform() * Math.log(200)) - 1)));
    writeFileSync(join(dir, 'cal.jsonl'), Array.from({ length: 64 }, () => JSON.stringify(seq())).join('\n') + '\n');
    writeFileSync(join(dir, 'held.jsonl'), Array.from({ length: 48 }, () => JSON.stringify({ input_ids: seq() })).join('\n') + '\n');
    return run('quantize', 'weights', enc, '--bits', '4', '--block-size', '32', '-o', join(dir, 'enc-rtn4.onnx'), '--json');
  })());

interface Report {
  dataset: { name: string; count: number; source: string; dataFree?: boolean; split?: string };
  task: { task: string; output?: string; description: string; metricModule?: string };
  rows: { name: string; accuracy?: number; metrics?: Record<string, number>; fidelity?: { cosine: number; sqnrDb: number | string; top1Agreement?: number; rmse: number } }[];
}

async function runOrt(path: string, feeds: Record<string, ort.Tensor>, output?: string): Promise<{ data: Float32Array; dims: number[] }> {
  const s = await ort.InferenceSession.create(path);
  try {
    const out = (await s.run(feeds))[output ?? s.outputNames[0]!]!;
    return { data: Float32Array.from(out.data as Float32Array), dims: [...out.dims] };
  } finally {
    await s.release();
  }
}

/** MNIST digits written as 8-bit grey PNGs into `<root>/<digit>/<i>.png`. */
function writeDigits(root: string, images: Float32Array, labels: ArrayLike<number>, pick: readonly number[]): void {
  for (const i of pick) {
    const px = Uint8Array.from(images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
    mkdirSync(join(root, String(labels[i])), { recursive: true });
    writeFileSync(join(root, String(labels[i]), `${String(i).padStart(5, '0')}.png`), encodePng({ width: 28, height: 28, data: px, channels: 1, depth: 8 }));
  }
}

describe('whittle evaluate on the data a user has', () => {
  it('LeNet-5: static int8 calibrated from an image folder, evaluated on a labelled image folder; accuracies as onnxruntime measures them', async () => {
    const lenet5 = join(ZOO_DIR, cacheName('lenet5'));
    const mnist = await mnistData();
    const cal = join(dir, 'cal-images');
    const val = join(dir, 'val-images');
    writeDigits(cal, mnist.train.images, mnist.train.labels, Array.from({ length: 64 }, (_, k) => k * 97));
    const testIdx = Array.from({ length: 400 }, (_, k) => k * 5);
    writeDigits(val, mnist.test.images, mnist.test.labels, testIdx);
    const q = join(dir, 'lenet5-int8.onnx');
    const r = await run('quantize', 'static', lenet5, '--data', cal, '--calibration-samples', '64', '-o', q, '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = await run('evaluate', lenet5, q, '--data', val, '--no-latency', '--json', '--report', join(dir, 'rep-lenet5'));
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(e.stdout) as Report;
    expect(rep.task.task).toBe('classification');
    expect(rep.dataset).toMatchObject({ count: 400, source: 'images' });
    // accuracy recomputed here from onnxruntime on the same pixels (PNG-rounded), image order = folder order
    const order = [...testIdx].sort((a, b) => (String(mnist.test.labels[a]) + String(a).padStart(5, '0') < String(mnist.test.labels[b]) + String(b).padStart(5, '0') ? -1 : 1));
    const x = new Float32Array(order.length * 784);
    order.forEach((i, k) => x.set(Float32Array.from(mnist.test.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255) / 255), k * 784));
    const feeds = { [(await ort.InferenceSession.create(lenet5)).inputNames[0]!]: new ort.Tensor('float32', x, [order.length, 1, 28, 28]) };
    const acc = async (p: string): Promise<{ top1: number; top5: number }> => {
      const { data } = await runOrt(p, feeds);
      let t1 = 0, t5 = 0;
      order.forEach((i, k) => {
        const row = Array.from(data.subarray(k * 10, k * 10 + 10));
        const y = mnist.test.labels[i]!;
        const rank = row.filter((v, j) => v > row[y]! || (v === row[y]! && j < y)).length;
        if (rank === 0) t1++;
        if (rank < 5) t5++;
      });
      return { top1: t1 / order.length, top5: t5 / order.length };
    };
    const [a0, a1] = [await acc(lenet5), await acc(q)];
    expect(rep.rows[0]!.accuracy).toBeCloseTo(a0.top1, 10);
    expect(rep.rows[1]!.accuracy).toBeCloseTo(a1.top1, 10);
    expect(rep.rows[1]!.metrics!.top5).toBeCloseTo(a1.top5, 10);
    console.log(`LeNet-5 static int8 (64 calibration PNGs): top-1 ${(a0.top1 * 100).toFixed(2)} % → ${(a1.top1 * 100).toFixed(2)} % on 400 test PNGs; top-5 ${(a1.top5 * 100).toFixed(2)} %; top-1 agreement ${((rep.rows[1]!.fidelity!.top1Agreement ?? 0) * 100).toFixed(2)} %; size ${readFileSync(lenet5).length} → ${readFileSync(q).length} B`);
    expect(a0.top1 - a1.top1).toBeLessThan(0.01);
    expect(readFileSync(q).length).toBeLessThan(readFileSync(lenet5).length / 2.5);
    const card = readFileSync(join(dir, 'rep-lenet5', 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('- Evaluation: ');
    expect(card).toContain('[images], 400 image(s)');
    expect(card).toContain('(400 samples)');
    expect(card).toContain('- Task and metric: classification');
    // evaluation does not know how a variant was made: its data is not called calibration data
    expect(card).not.toMatch(/Training \/ calibration: 400 image/);

    // a folder holding only some digits: folders named 2 and 7 are classes 2 and 7 (not 0 and 1)
    const some = join(dir, 'val-2-7');
    const twoSeven = testIdx.filter((i) => mnist.test.labels[i] === 2 || mnist.test.labels[i] === 7);
    writeDigits(some, mnist.test.images, mnist.test.labels, twoSeven);
    const e27 = await run('evaluate', lenet5, '--data', some, '--no-latency', '--json');
    expect(e27.code, e27.stderr).toBe(0);
    const r27 = JSON.parse(e27.stdout) as Report;
    expect(r27.dataset.split).toContain(`${twoSeven.length} image(s) from ${some} in 2 classes named by index (2, 7)`);
    expect(r27.rows[0]!.accuracy).toBeGreaterThan(0.95);
    // a folder named by a number past the model's classes is a data error naming them
    writeDigits(join(dir, 'val-10'), mnist.test.images, Array.from(mnist.test.labels, () => 10), testIdx.slice(0, 3));
    const e10 = await run('evaluate', lenet5, '--data', join(dir, 'val-10'), '--no-latency');
    expect(e10.code).not.toBe(0);
    expect(e10.stderr).toMatch(/label 10 is not a class of output '[^']+', which scores 10 class\(es\) \(0…9\)/);
  }, 600_000);

  it('transformer encoder from token ids: GPTQ int4 has a lower output error than RTN int4 on held-out tokens', async () => {
    const enc = join(dir, 'encoder.onnx');
    const w = await encoder();
    const gptq = join(dir, 'enc-gptq4.onnx');
    const rtn = join(dir, 'enc-rtn4.onnx');
    const g = await run('quantize', 'gptq', enc, '--bits', '4', '--block-size', '32', '--data', 'cal.jsonl', '--calibration-samples', '64', '-o', gptq, '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(w.code, w.stderr).toBe(0);
    const e = await run('evaluate', enc, gptq, rtn, '--data', 'held.jsonl', '--task', 'fidelity', '--no-latency', '--json');
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(e.stdout) as Report;
    expect(rep.task.task).toBe('fidelity');
    expect(rep.dataset).toMatchObject({ count: 48, source: 'jsonl' });
    const [, fg, fr] = rep.rows.map((x) => x.fidelity!);
    // the report's RMSE recomputed here in onnxruntime
    const held = readFileSync(join(dir, 'held.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { input_ids: number[] }).input_ids);
    const ids = new ort.Tensor('int64', BigInt64Array.from(held.flat(), BigInt), [held.length, 16]);
    const ref = (await runOrt(enc, { input_ids: ids })).data;
    const rmse = async (p: string): Promise<number> => {
      const y = (await runOrt(p, { input_ids: ids })).data;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += (y[i]! - ref[i]!) ** 2;
      return Math.sqrt(s / y.length);
    };
    const [eg, er] = [await rmse(gptq), await rmse(rtn)];
    expect(fg!.rmse).toBeCloseTo(eg, 4);
    expect(fr!.rmse).toBeCloseTo(er, 4);
    console.log(`encoder int4 (block 32) on 48 held-out sequences: GPTQ rmse ${eg.toExponential(3)} SQNR ${fg!.sqnrDb} dB cosine ${fg!.cosine.toFixed(5)}; RTN rmse ${er.toExponential(3)} SQNR ${fr!.sqnrDb} dB cosine ${fr!.cosine.toFixed(5)}`);
    expect(eg).toBeLessThan(er);
  }, 600_000);

  it('regression against the expected outputs of an ONNX test-data folder; embedding cosine and retrieval agreement on token data', async () => {
    const enc = join(dir, 'encoder.onnx');
    const rtn = join(dir, 'enc-rtn4.onnx');
    const w = await encoder();
    expect(w.code, w.stderr).toBe(0);
    const { writeTensorProto } = await import('@whittle/onnx');
    const { tensor } = await import('@whittle/tensor');
    const rng = new Rng(21);
    const sets: BigInt64Array[] = [];
    for (let k = 0; k < 3; k++) {
      const ids = BigInt64Array.from({ length: 12 }, () => BigInt(Math.floor(rng.uniform() * 200)));
      sets.push(ids);
      const d = join(dir, 'enc-tests', `test_data_set_${k}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'input_0.pb'), writeTensorProto(tensor(ids, [1, 12], 'int64', { backend: 'cpu' })));
      const y = await runOrt(enc, { input_ids: new ort.Tensor('int64', ids, [1, 12]) });
      writeFileSync(join(d, 'output_0.pb'), writeTensorProto(tensor(y.data, y.dims, 'float32', { backend: 'cpu' })));
    }
    const e = await run('evaluate', enc, rtn, '--data', 'enc-tests', '--task', 'regression', '--no-latency', '--json');
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(e.stdout) as Report;
    let sq = 0, ab = 0, n = 0;
    for (const ids of sets) {
      const a = (await runOrt(enc, { input_ids: new ort.Tensor('int64', ids, [1, 12]) })).data;
      const b = (await runOrt(rtn, { input_ids: new ort.Tensor('int64', ids, [1, 12]) })).data;
      for (let i = 0; i < a.length; i++) [sq, ab, n] = [sq + (a[i]! - b[i]!) ** 2, ab + Math.abs(a[i]! - b[i]!), n + 1];
    }
    expect(rep.rows[0]!.metrics!.mse).toBe(0);
    expect(rep.rows[1]!.metrics!.mse).toBeCloseTo(sq / n, 6);
    expect(rep.rows[1]!.metrics!.mae).toBeCloseTo(ab / n, 5);
    console.log(`encoder RTN int4 vs the ONNX test-data expected outputs: mse ${(sq / n).toExponential(3)}, mae ${(ab / n).toExponential(3)}`);

    const m = await run('evaluate', enc, rtn, '--data', 'held.jsonl', '--task', 'embedding', '--no-latency', '--json');
    expect(m.code, m.stderr).toBe(0);
    const er = JSON.parse(m.stdout) as Report;
    const held = readFileSync(join(dir, 'held.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { input_ids: number[] }).input_ids);
    const ids = new ort.Tensor('int64', BigInt64Array.from(held.flat(), BigInt), [held.length, 16]);
    const pool = (y: Float32Array): number[][] => held.map((_, b) => Array.from({ length: 64 }, (_, d) => { let s2 = 0; for (let t = 0; t < 16; t++) s2 += y[(b * 16 + t) * 64 + d]!; return s2 / 16; }));
    const [pa, pb] = [pool((await runOrt(enc, { input_ids: ids })).data), pool((await runOrt(rtn, { input_ids: ids })).data)];
    const cos = (u: number[], v: number[]): number => u.reduce((s2, x, i) => s2 + x * v[i]!, 0) / Math.sqrt(u.reduce((s2, x) => s2 + x * x, 0) * v.reduce((s2, x) => s2 + x * x, 0));
    const mean = pa.reduce((s2, u, i) => s2 + cos(u, pb[i]!), 0) / pa.length;
    expect(er.rows[1]!.metrics!.embeddingCosine).toBeCloseTo(mean, 6);
    const agreement = er.rows[1]!.metrics!['retrievalAgreement@5']!;
    console.log(`encoder RTN int4 embeddings (mean-pooled, 48 sequences): cosine ${mean.toFixed(5)}, retrieval agreement@5 ${agreement.toFixed(3)}`);
    expect(agreement).toBeGreaterThan(0.5);
    expect(agreement).toBeLessThanOrEqual(1);
  }, 600_000);

  it('decoder perplexity on raw text with its tokenizer.json (--task lm), as computed here from the logits; a user metric module', async () => {
    const vocab: Record<string, number> = { '[UNK]': 0, '<|endoftext|>': 1 };
    const words = 'the a cat dog sat ran on under mat log and then it was big small red'.split(' ');
    for (const wd of words) vocab[wd] = Object.keys(vocab).length;
    const tokenizer = { model: { type: 'WordLevel', vocab, unk_token: '[UNK]' }, pre_tokenizer: { type: 'Whitespace' }, added_tokens: [{ id: 1, content: '<|endoftext|>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }] };
    const t = join(dir, 'text');
    mkdirSync(t, { recursive: true });
    writeFileSync(join(t, 'tokenizer.json'), JSON.stringify(tokenizer));
    const rng = new Rng(5);
    const lines = Array.from({ length: 12 }, () => Array.from({ length: 3 + Math.floor(rng.uniform() * 8) }, () => words[Math.floor(rng.uniform() * words.length)]).join(' '));
    writeFileSync(join(t, 'corpus.txt'), lines.join('\n') + '\n');
    writeFileSync(join(t, 'spec.yaml'), 'kind: text\npath: corpus.txt\nlength: 16\n');
    const dec = join(dir, 'decoder.onnx');
    writeFileSync(dec, writeModel(optimumDecoder({ seed: 2, vocab: 64, layers: 2, dModel: 64, heads: 4 })));
    const q = join(dir, 'decoder-int8.onnx');
    const r = await run('quantize', 'weights', dec, '--bits', '8', '-o', q, '--json');
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(dir, 'metric.mjs'), 'export default ({ outputs, inputs }) => ({ logitMean: outputs.logits.data.reduce((s, v) => s + v, 0) / outputs.logits.data.length, windows: inputs.input_ids.dims[0] });\n');
    const e = whittle('evaluate', dec, q, '--data', join('text', 'spec.yaml'), '--task', 'lm', '--output', 'logits', '--metric', 'metric.mjs', '--no-latency', '--json');
    expect(e.code, e.stderr).toBe(0);
    const rep = JSON.parse(e.stdout) as Report;
    expect(rep.task).toMatchObject({ task: 'lm', output: 'logits', metricModule: 'metric.mjs' });
    expect(rep.dataset.source).toBe('text');
    // the windows, built here: the file whole (--task lm reads whole files; the word-level tokenizer
    // drops the newlines) followed by <|endoftext|>, cut into 16-token windows, the tail padded (mask 0)
    const stream = [...lines.flatMap((l) => l.split(' ').map((wd) => vocab[wd]!)), 1];
    const wins: number[][] = [];
    for (let s = 0; s < stream.length; s += 16) wins.push(stream.slice(s, s + 16));
    expect(rep.dataset.count).toBe(wins.length);
    const ppl = async (p: string): Promise<{ ppl: number; mean: number }> => {
      let nll = 0, n = 0, sum = 0, cnt = 0;
      for (const win of wins) {
        const real = win.length;
        const ids = [...win, ...new Array<number>(16 - real).fill(1)];
        const mask = [...new Array<number>(real).fill(1), ...new Array<number>(16 - real).fill(0)];
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, 16]),
          attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask, BigInt), [1, 16]),
          use_cache_branch: new ort.Tensor('bool', [false], [1]),
        };
        for (let l = 0; l < 2; l++) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 16]);
        const { data } = await runOrt(p, feeds, 'logits');
        for (const v of data) [sum, cnt] = [sum + v, cnt + 1];
        for (let k = 0; k + 1 < real; k++) {
          const row = Array.from(data.subarray(k * 64, k * 64 + 64));
          const m = Math.max(...row);
          nll += Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m - row[ids[k + 1]!]!;
          n++;
        }
      }
      return { ppl: Math.exp(nll / n), mean: sum / cnt };
    };
    const [p0, p1] = [await ppl(dec), await ppl(q)];
    expect(rep.rows[0]!.metrics!.perplexity).toBeCloseTo(p0.ppl, 3);
    expect(rep.rows[1]!.metrics!.perplexity).toBeCloseTo(p1.ppl, 3);
    expect(rep.rows[0]!.metrics!.logitMean).toBeCloseTo(p0.mean, 4);
    expect(rep.rows[1]!.metrics!.windows).toBe(wins.length);
    console.log(`optimum-style decoder on ${wins.length} text windows: perplexity ${p0.ppl.toFixed(3)} → ${p1.ppl.toFixed(3)} (int8 weights); vocab 64`);
    expect(Math.abs(p1.ppl - p0.ppl) / p0.ppl).toBeLessThan(0.05);
  }, 600_000);

  it('synthetic data is reported as data-free; an unknown task is refused', async () => {
    const enc = join(dir, 'encoder.onnx');
    const w = await encoder();
    expect(w.code, w.stderr).toBe(0);
    const e = await run('evaluate', enc, join(dir, 'enc-rtn4.onnx'), '--data', 'synthetic:4', '--task', 'embedding', '--no-latency', '--report', join(dir, 'rep-syn'));
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/Data: data-free \(synthetic\) — synthetic:4 \[synthetic\]/);
    expect(e.stdout).toMatch(/\| `enc-rtn4` \| 0\.9\d+ \| 0\.9\d+ \| [01]\.?\d* \|/);
    expect(readFileSync(join(dir, 'rep-syn', 'MODEL_CARD.md'), 'utf8')).toContain('Measured on synthetic (data-free) inputs');
    const bad = await run('evaluate', enc, '--data', 'synthetic:2', '--task', 'speed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--task must be one of classification, fidelity, lm, regression, embedding');
  }, 300_000);
});
