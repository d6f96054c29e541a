import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '@whittle/eval';
import { writeTensorProto } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { tensor } from '@whittle/tensor';
import { CORPUS, corpusFeeds, corpusPath } from '@whittle/testing/corpus';
import { whittleInProcessAt } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
// fflate is a dependency of @whittle/eval (its .npz reader), not of the CLI: resolve it from there
const evalRequire = createRequire(join(here, '..', '..', '..', 'packages', 'eval', 'package.json'));
const { zipSync } = evalRequire('fflate') as { zipSync(files: Record<string, Uint8Array>): Uint8Array };
const { encode: encodePng } = evalRequire('fast-png') as { encode(img: { width: number; height: number; data: Uint8Array; channels: number }): Uint8Array };
const dir = mkdtempSync(join(tmpdir(), 'whittle-data-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `whittle ...args` run in this process, started in the test's folder as a spawned bin would be
 * (relative `--data` paths resolve there): the same program without seconds of start-up apiece.
 */
const whittle = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => whittleInProcessAt(dir, ...args);

const cls = CORPUS.find((m) => m.id === 'ocr-cls')!;

/** ocr-cls with int8 weights (cls-int8.onnx), written once by whichever test needs it first. */
let clsInt8Run: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
const clsInt8 = (): Promise<{ code: number; stdout: string; stderr: string }> => (clsInt8Run ??= whittle('quantize', 'weights', '--bits', '8', corpusPath(cls), '-o', join(dir, 'cls-int8.onnx'), '--json'));
const jarvis = CORPUS.find((m) => m.id === 'oww-hey-jarvis')!;

/** `n` OCR-like page crops [n, 3, 48, 96] (the corpus's text-image feeds, one seed each). */
function pages(n: number, seed0: number): Float32Array {
  const per = 3 * 48 * 96;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(corpusFeeds(cls, seed0 + i).x!.data as Float32Array, i * per);
  return out;
}

async function run(path: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path);
  try {
    const out = await s.run(feeds);
    return Float32Array.from(out[s.outputNames[0]!]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

describe('--data <path|spec>', () => {
  it('quantize static on the openWakeWord embedding model calibrated from a .npy; the output runs in onnxruntime close to the original', async () => {
    const emb = CORPUS.find((m) => m.id === 'oww-embedding')!;
    const mels = (n: number, seed: number): Float32Array => {
      const out = new Float32Array(n * 76 * 32);
      for (let i = 0; i < n; i++) out.set(corpusFeeds(emb, seed + i).input_1!.data as Float32Array, i * 76 * 32);
      return out;
    };
    writeFileSync(join(dir, 'cal.npy'), encodeNpy({ data: mels(16, 100), shape: [16, 76, 32, 1], dtype: 'float32' }));
    const out = join(dir, 'emb-int8.onnx');
    const r = await whittle('quantize', 'static', corpusPath(emb), '--data', 'cal.npy', '--calibration-samples', '16', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const feeds = { input_1: new ort.Tensor('float32', mels(8, 500), [8, 76, 32, 1]) };
    const c = cosine(await run(corpusPath(emb), feeds), await run(out, feeds));
    console.log(`oww-embedding static int8 calibrated on 16 .npy samples: cosine ${c.toFixed(5)} on 8 held-out samples`);
    expect(c).toBeGreaterThan(0.98);
  }, 240_000);

  it('ocr-cls int8 weights for the evaluate tests', async () => {
    const r = await clsInt8();
    expect(r.code, r.stderr).toBe(0);
  }, 240_000);

  it('quantize static on hey-jarvis calibrated from an .npz (fixed batch 1: one feed per sample)', async () => {
    const n = 12;
    const x = Float32Array.from({ length: n * 16 * 96 }, (_, i) => Math.sin(i * 0.37) * 2 + Math.cos(i * 0.011));
    writeFileSync(join(dir, 'jarvis.npz'), zipSync({ 'x.1.npy': encodeNpy({ data: x, shape: [n, 16, 96], dtype: 'float32' }) }));
    const out = join(dir, 'jarvis-int8.onnx');
    const r = await whittle('quantize', 'static', corpusPath(jarvis), '--data', 'jarvis.npz', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const q = await readModelFile(out);
    expect(q.graph.nodes.filter((nd) => nd.opType === 'QuantizeLinear').length).toBeGreaterThan(0);
    const probe = Float32Array.from({ length: 16 * 96 }, (_, i) => Math.sin(i * 0.5 + 1) * 2);
    const a = await run(corpusPath(jarvis), { 'x.1': new ort.Tensor('float32', probe, [1, 16, 96]) });
    const b = await run(out, { 'x.1': new ort.Tensor('float32', probe, [1, 16, 96]) });
    console.log(`hey-jarvis static int8 from .npz: score ${a[0]} → ${b[0]}`);
    expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(0.1);
  }, 240_000);

  it('evaluate --data <folder>: accuracy from labels.npy and fidelity to the first model, as computed in onnxruntime here', async () => {
    const n = 12;
    const d = join(dir, 'evalset');
    mkdirSync(d, { recursive: true });
    const x = pages(n, 900);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    writeFileSync(join(d, 'x.npy'), encodeNpy({ data: x, shape: [n, 3, 48, 96], dtype: 'float32' }));
    writeFileSync(join(d, 'labels.npy'), encodeNpy({ data: labels, shape: [n], dtype: 'int32' }));
    const int8 = join(dir, 'cls-int8.onnx');
    const made = await clsInt8();
    expect(made.code, made.stderr).toBe(0);
    const r = await whittle('evaluate', corpusPath(cls), int8, '--data', 'evalset', '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { rows: { accuracy?: number; fidelity?: { cosine: number; top1Agreement?: number } }[]; dataset: { count: number } };
    const feeds = { x: new ort.Tensor('float32', x, [n, 3, 48, 96]) };
    const ref = await run(corpusPath(cls), feeds);
    const q = await run(int8, feeds);
    const acc = (l: Float32Array): number => labels.reduce((s, y, i) => s + ((l[2 * i + 1]! > l[2 * i]! ? 1 : 0) === y ? 1 : 0), 0) / n;
    expect(rep.dataset.count).toBe(n);
    expect(rep.rows[0]!.accuracy).toBeCloseTo(acc(ref), 10);
    expect(rep.rows[1]!.accuracy).toBeCloseTo(acc(q), 10);
    expect(rep.rows[1]!.fidelity!.cosine).toBeCloseTo(cosine(ref, q), 5);
    let agree = 0;
    for (let i = 0; i < n; i++) if ((ref[2 * i + 1]! > ref[2 * i]!) === (q[2 * i + 1]! > q[2 * i]!)) agree++;
    expect(rep.rows[1]!.fidelity!.top1Agreement).toBeCloseTo(agree / n, 10);
  }, 240_000);

  it('evaluate --data <ONNX test-data folder> without labels: fidelity only; bad data is refused naming file and mismatch', async () => {
    const d = join(dir, 'onnx-tests');
    const sets = [pages(1, 7), pages(1, 8)];
    sets.forEach((x, s) => {
      mkdirSync(join(d, `test_data_set_${s}`), { recursive: true });
      writeFileSync(join(d, `test_data_set_${s}`, 'input_0.pb'), writeTensorProto(tensor(x, [1, 3, 48, 96], 'float32', { backend: 'cpu' })));
    });
    const int8 = join(dir, 'cls-int8.onnx');
    const made = await clsInt8();
    expect(made.code, made.stderr).toBe(0);
    const r = await whittle('evaluate', corpusPath(cls), int8, '--data', 'onnx-tests', '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { rows: { accuracy?: number; fidelity?: { cosine: number } }[] };
    expect(rep.rows[0]!.accuracy).toBeUndefined();
    const ref: number[] = [];
    const q: number[] = [];
    for (const x of sets) {
      ref.push(...(await run(corpusPath(cls), { x: new ort.Tensor('float32', x, [1, 3, 48, 96]) })));
      q.push(...(await run(int8, { x: new ort.Tensor('float32', x, [1, 3, 48, 96]) })));
    }
    expect(rep.rows[1]!.fidelity!.cosine).toBeCloseTo(cosine(Float32Array.from(ref), Float32Array.from(q)), 5);

    writeFileSync(join(dir, 'bad.npy'), encodeNpy({ data: new Float32Array(2 * 48 * 96), shape: [2, 48, 96], dtype: 'float32' }));
    const bad = await whittle('quantize', 'static', corpusPath(cls), '--data', 'bad.npy', '-o', join(dir, 'never.onnx'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${join(dir, 'bad.npy')}, sample 0: input 'x' takes rank 4`);
  }, 240_000);

  it('samples the model cannot run (a detector fed a height its upsampling path cannot take): evaluate and calibration name the model, the batch and the shapes; nothing written', async () => {
    const det = corpusPath(CORPUS.find((m) => m.id === 'ocr-det')!);
    // PaddleOCR's detector needs sides that are multiples of 32: at 48 rows its FPN Add cannot broadcast
    writeFileSync(join(dir, 'tall48.npy'), encodeNpy({ data: new Float32Array(2 * 3 * 48 * 64).fill(0.5), shape: [2, 3, 48, 64], dtype: 'float32' }));
    const ev = await whittle('evaluate', det, det, '--data', 'tall48.npy', '--no-latency');
    expect(ev.code, ev.stderr).toBe(1);
    expect(ev.stderr).toMatch(/EvaluationError: onnxruntime could not run 'ch_PP-OCRv4_det_infer' on batch 0 of .*tall48\.npy.* \(x \[2, 3, 48, 64\]\): .*Add/);
    const out = join(dir, 'det-never.onnx');
    const q = await whittle('quantize', 'static', det, '--data', 'tall48.npy', '-o', out);
    expect(q.code, q.stderr).toBe(1);
    expect(q.stderr).toMatch(/quantize-static: onnxruntime could not run the model on calibration batch 0 \(x \[2, 3, 48, 64\]\): .*Add/);
    expect(existsSync(out)).toBe(false);
  });

  it('labeled data that cannot train the model notes it once, then the calibration error names the file', async () => {
    writeFileSync(join(dir, 'two-features.csv'), 'a,b,label\n1,2,0\n3,4,1\n');
    const out = join(dir, 'cls-never.onnx');
    const r = await whittle('quantize', 'static', corpusPath(cls), '--data', 'two-features.csv', '-o', out);
    expect(r.code, r.stderr).toBe(1);
    // the context and the training flags both try the data: one note, not the same reason twice
    expect(r.stderr.match(/gives no training data/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/whittle: DataError: .*two-features\.csv, sample 0: input 'x' takes rank 4/);
    expect(existsSync(out)).toBe(false);
  });

  it('training images of different sizes for an open-size input: the pass stops with the data error that says how to fix it, nothing written', async () => {
    const imgs = join(dir, 'mixed-sizes');
    mkdirSync(imgs, { recursive: true });
    writeFileSync(join(imgs, 'a.png'), encodePng({ width: 120, height: 40, data: new Uint8Array(40 * 120 * 3).fill(200), channels: 3 }));
    writeFileSync(join(imgs, 'b.png'), encodePng({ width: 90, height: 30, data: new Uint8Array(30 * 90 * 3).fill(20), channels: 3 }));
    const out = join(dir, 'cls-kd-never.onnx');
    const r = await whittle('distill', corpusPath(cls), '--teacher', corpusPath(cls), '--data', 'mixed-sizes', '--epochs', '1', '-o', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/whittle: DataError: training data: .* differ in size; .*preprocess: \{ resize: \[height, width\] \}/);
    expect(r.stderr).not.toMatch(/needs training samples/);
    expect(existsSync(out)).toBe(false);
  });
});
