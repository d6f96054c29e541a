import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { rmSync } from 'node:fs';
import { readModelFile } from '@whittle/onnx/node';
import { mnistData, ZOO_DIR, cacheName } from '@whittle/testing/zoo';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { whittleInProcess } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'whittle-source.mjs');
const zoo = join(ZOO_DIR, cacheName('lenet300100'));
const dir = mkdtempSync(join(tmpdir(), 'whittle-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Spawn the real CLI (the published bin) with a clean INIT_CWD. */
function whittle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Logits of a model file on the first `n` MNIST test images, in onnxruntime-node. */
async function logits(path: string, n = 200): Promise<Float32Array> {
  const { test } = await mnistData();
  const s = await ort.InferenceSession.create(path);
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', test.images.slice(0, n * 784), [n, 1, 28, 28]) });
  await s.release();
  return out[s.outputNames[0]!]!.data as Float32Array;
}

/**
 * LeNet-300-100 with int8 per-channel weights, written once through the bin, whichever test needs
 * it first: the quantize test checks it, the evaluate test compares it with the original.
 */
let q8Run: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
const q8Args = ['quantize', 'weights', '--bits', '8', '--granularity', 'per-channel'];
const q8 = (): Promise<{ code: number; stdout: string; stderr: string }> => (q8Run ??= Promise.resolve().then(() => whittle(...q8Args, zoo, '-o', join(dir, 'q8.onnx'), '--json')));

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

// Spawning the CLI from TypeScript sources costs seconds of start-up apiece on a loaded 2-core
// machine: each behaviour goes through the bin once (its exit codes, stdout and stderr), the other
// cases run the same program in this process. The timeout guards against hangs, not speed.
describe('whittle CLI', { timeout: 300_000 }, () => {
  it('--help, passes and inspect', async () => {
    const h = whittle('--help');
    expect(h.code).toBe(0);
    for (const c of ['inspect', 'quantize', 'prune', 'factorize', 'distill', 'run', 'evaluate', 'demo', 'passes']) expect(h.stdout).toContain(c);
    const p = await whittleInProcess('passes', '--json');
    expect(p.code).toBe(0);
    const names = (JSON.parse(p.stdout) as { name: string }[]).map((x) => x.name);
    for (const n of ['quantize-weights', 'quantize-dynamic', 'cluster-weights', 'prune-gradual', 'prune-structured', 'lowrank']) expect(names).toContain(n);
    const q = await whittleInProcess('quantize', '--help');
    for (const sub of ['weights', 'dynamic', 'static', 'gptq', 'float16', 'cluster', 'qat', 'mixed', 'smooth']) expect(q.stdout).toContain(sub);
    const d = await whittleInProcess('distill', '--help');
    for (const flag of ['--temperature', '--alpha', '--shift', '--mixup']) expect(d.stdout).toContain(flag);
    const i = await whittleInProcess('inspect', zoo, '--json');
    expect(i.code).toBe(0);
    const s = JSON.parse(i.stdout) as { parameters: number; ops: Record<string, number> };
    expect(s.parameters).toBe(784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10);
    expect(s.ops.Gemm).toBe(3);
  });

  it('quantize, prune and factorize write models that onnxruntime runs close to the original', async () => {
    const ref = await logits(zoo);
    const cases: [string, string[], number][] = [
      ['q8.onnx', q8Args, 0.999],
      ['dyn.onnx', ['quantize', 'dynamic'], 0.99],
      ['sq.onnx', ['quantize', 'smooth', '--data', 'mnist', '--calibration-samples', '64'], 0.99], // SmoothQuant, then static int8
      ['p50.onnx', ['prune', 'unstructured', '--sparsity', '0.5', '--scope', 'global'], 0.98],
      ['lr.onnx', ['factorize', 'lowrank', '--rank-selection', 'budget', '--target-ratio', '0.6'], 0.95],
    ];
    // the first through the bin, the rest in this process
    for (const [k, [file, args, minCos]] of cases.entries()) {
      const out = join(dir, file);
      const r = k === 0 ? await q8() : await whittleInProcess(...args, zoo, '-o', out, '--json');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      const report = JSON.parse(r.stdout) as { pass: string; output: string };
      expect(report.output).toBe(out);
      expect(cosine(ref, await logits(out)), args.join(' ')).toBeGreaterThan(minCos);
    }
    // options map 1:1 to the pass: --sparsity 0.5 global zeroes half of the Gemm weights
    const pruned = await readModelFile(join(dir, 'p50.onnx'));
    let zeros = 0;
    for (const w of ['fc1.weight', 'fc2.weight', 'fc3.weight']) for (const v of pruned.graph.initializers.get(w)!.dataSync() as Float32Array) if (v === 0) zeros++;
    expect(zeros).toBe(Math.round(0.5 * (784 * 300 + 300 * 100 + 100 * 10)));
  });

  it('every other technique subcommand runs on a real model and onnxruntime runs the result', async () => {
    const lenet5 = join(ZOO_DIR, cacheName('lenet5'));
    const refs = { [zoo]: await logits(zoo), [lenet5]: await logits(lenet5) };
    const data = ['--data', 'mnist', '--calibration-samples', '64'];
    const cases: [string, string, string[], number][] = [
      ['static.onnx', zoo, ['quantize', 'static', ...data], 0.99],
      ['gptq.onnx', zoo, ['quantize', 'gptq', ...data], 0.98],
      ['fp16.onnx', zoo, ['quantize', 'float16'], 0.9999],
      ['cluster.onnx', zoo, ['quantize', 'cluster'], 0.99],
      ['qat.onnx', zoo, ['quantize', 'qat', ...data, '--epochs', '1'], 0.97],
      ['mixed.onnx', zoo, ['quantize', 'mixed', ...data, '--target-ratio', '0.2'], 0.97],
      ['nm.onnx', zoo, ['prune', 'nm'], 0.85], // one-shot 2:4 without fine-tuning
      ['structured.onnx', lenet5, ['prune', 'structured', '--sparsity', '0.3'], 0.7], // one-shot channel removal, no fine-tuning
      ['gradual.onnx', zoo, ['prune', 'gradual', ...data, '--epochs', '1', '--target-sparsity', '0.5'], 0.95],
      ['linear.onnx', zoo, ['factorize', 'linear', '--rank-selection', 'budget', '--target-ratio', '0.7'], 0.95], // energy 0.95 keeps ranks above break-even here: refused
      ['conv.onnx', lenet5, ['factorize', 'conv', '--rank-selection', 'energy', '--energy', '0.95'], 0.95],
    ];
    // the first through the bin, the rest in this process (the same program; seconds of start-up saved apiece)
    for (const [k, [file, model, args, minCos]] of cases.entries()) {
      const out = join(dir, file);
      const r = k === 0 ? whittle(...args, model, '-o', out, '--json') : await whittleInProcess(...args, model, '-o', out, '--json');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect((JSON.parse(r.stdout) as { pass: string }).pass).toBeTruthy();
      expect(cosine(refs[model]!, await logits(out)), args.join(' ')).toBeGreaterThan(minCos);
    }
    // structured pruning really removed channels: a smaller file
    expect(statSync(join(dir, 'structured.onnx')).size).toBeLessThan(0.8 * statSync(lenet5).size);
    // sensitivity analyses: a report, and no model file claiming work that was not done
    const sens = await whittleInProcess('prune', 'sensitivity', ...data, zoo, '-o', join(dir, 'sens.onnx'), '--json');
    expect(sens.code, sens.stderr).toBe(0);
    expect(JSON.parse(sens.stdout)).toMatchObject({ pass: 'prune-sensitivity', output: null });
    expect(existsSync(join(dir, 'sens.onnx'))).toBe(false);
  });

  it('demo (shortened): prunes, clusters, evaluates and writes models, report and model card', async () => {
    const out = join(dir, 'demo');
    const r = await whittleInProcess('demo', '-o', out, '--prune-epochs', '1', '--cluster-epochs', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { report: { rows: { name: string; ratio: number; accuracy: number }[] } }).report.rows;
    expect(rows.map((x) => x.name)).toEqual(['lenet300100-fp32', 'pruned', 'deep-compressed']);
    expect(rows[2]!.ratio).toBeGreaterThan(35); // 95 % sparse, 4-bit shared values, relative indices
    expect(rows[2]!.accuracy).toBeGreaterThan(0.88); // one pruning epoch only
    expect(readdirSync(out).sort()).toEqual(['MODEL_CARD.md', 'deep-compressed.onnx', 'lenet300100-fp32.onnx', 'pruned.onnx', 'report.json', 'report.md']);
    expect(cosine(await logits(join(out, 'pruned.onnx')), await logits(join(out, 'deep-compressed.onnx')))).toBeGreaterThan(0.99);
  });

  it('quantize stream: external-data weights quantized one at a time, run in onnxruntime-node', async () => {
    const src = writeSyntheticMlp(dir, [128, 96, 10], { seed: 2, name: 'ext' });
    const out = join(dir, 'ext_q4.onnx');
    const r = await whittleInProcess('quantize', 'stream', src.modelPath, '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { layers: unknown[]; inputDataBytes: number; outputDataBytes: number };
    expect(j.layers).toHaveLength(2);
    expect(j.inputDataBytes).toBe(src.dataBytes);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 2 * 128 }, (_, i) => Math.cos(i)), [2, 128]);
    const y = async (p: string): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(p);
      const o = (await s.run({ x }))[s.outputNames[0]!]!.data as Float32Array;
      await s.release();
      return o;
    };
    expect(cosine(await y(src.modelPath), await y(out))).toBeGreaterThan(0.99);
  });

  it('runs a YAML recipe and writes the Transformers.js layout', async () => {
    const recipe = join(dir, 'r.yaml');
    writeFileSync(recipe, 'name: small\npasses:\n  - pass: prune-unstructured\n    options: { sparsity: 0.3 }\n  - pass: quantize-weights\n    options: { bits: 8, granularity: per-channel }\n');
    const r = await whittleInProcess('run', recipe, zoo, '-o', join(dir, 'tjs'), '--transformers-js', 'q8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 1 prune-unstructured/);
    expect(r.stdout).toMatch(/step 2 quantize-weights/);
    const path = join(dir, 'tjs', 'onnx', 'model_quantized.onnx');
    expect(existsSync(path)).toBe(true);
    // 30 % magnitude pruning + int8 per-channel weights, no fine-tuning: logits barely move
    expect(cosine(await logits(zoo), await logits(path))).toBeGreaterThan(0.99);
  });

  it('--transformers-js on a sub-model of a Transformers.js folder keeps its stem (onnx/encoder_model.onnx → onnx/encoder_model_quantized.onnx, as Transformers.js loads it)', async () => {
    const sub = join(dir, 'folder', 'onnx');
    mkdirSync(sub, { recursive: true });
    copyFileSync(zoo, join(sub, 'encoder_model.onnx'));
    const r = await whittleInProcess('quantize', 'dynamic', join(sub, 'encoder_model.onnx'), '-o', join(dir, 'out_folder'), '--transformers-js', 'q8');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out_folder', 'onnx'))).toEqual(['encoder_model_quantized.onnx']);
    // a file outside such a folder is the folder's one model
    const r2 = await whittleInProcess('quantize', 'dynamic', zoo, '-o', join(dir, 'out_plain'), '--transformers-js', 'q8');
    expect(r2.code, r2.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out_plain', 'onnx'))).toEqual(['model_quantized.onnx']);
  });

  it('distill: a spec-built student learns the teacher; a recipe prune -> distill takes --teacher', async () => {
    const out = join(dir, 'student.onnx');
    const r = await whittleInProcess('distill', 'mlp:784-32-10', '--teacher', zoo, '--data', 'mnist', '--epochs', '2', '--lr', '0.003', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { test } = await mnistData();
    const l = await logits(out, 500);
    let correct = 0;
    for (let i = 0; i < 500; i++) {
      let b = 0;
      for (let k = 1; k < 10; k++) if (l[i * 10 + k]! > l[i * 10 + b]!) b = k;
      if (b === test.labels[i]) correct++;
    }
    expect(correct / 500).toBeGreaterThan(0.85);
    // the comparison line is against the teacher it learned (not its untrained self): the numbers
    // of the teacher and the student run here on the same first test samples
    const f = (JSON.parse(r.stdout) as { fidelity: { against: string; outputs: { cosine: number; top1: number }[] } }).fidelity;
    expect(f.against).toBe('the teacher');
    const t4 = await logits(zoo, 4);
    const s4 = l.subarray(0, 40);
    expect(f.outputs[0]!.cosine).toBeCloseTo(cosine(t4, s4), 4);
    let agree = 0;
    for (let i = 0; i < 4; i++) {
      const arg = (v: Float32Array): number => v.subarray(i * 10, i * 10 + 10).reduce((b, x, k, a) => (x > a[b]! ? k : b), 0);
      if (arg(t4) === arg(s4)) agree++;
    }
    expect(f.outputs[0]!.top1).toBe(agree / 4);
    const recipe = join(dir, 'pd.json');
    writeFileSync(recipe, JSON.stringify({ passes: [{ pass: 'prune-structured', options: { sparsity: 0.5 } }, { pass: 'distill', options: { epochs: 1, mixup: 0.2 } }] }));
    const rr = await whittleInProcess('run', recipe, zoo, '--teacher', zoo, '--data', 'mnist', '-o', join(dir, 'pd.onnx'));
    expect(rr.code, rr.stderr).toBe(0);
    expect(rr.stdout).toMatch(/step 2 distill: distilled .*mixup 0\.2/);
    const nd = await whittleInProcess('distill', 'mlp:784-32-10', '--data', 'mnist', '-o', join(dir, 'x.onnx'));
    expect(nd.code).toBe(2);
    expect(nd.stderr).toMatch(/--teacher/);
  });

  it('evaluate: accuracies as onnxruntime measures them, report files and model card', async () => {
    const q = await q8();
    expect(q.code, q.stderr).toBe(0);
    const r = await whittleInProcess('evaluate', zoo, join(dir, 'q8.onnx'), '--data', 'mnist', '--no-latency', '--json', '--report', join(dir, 'rep'));
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { rows: { name: string; accuracy: number; ratio: number; fidelity?: { top1Agreement: number } }[] };
    const { test } = await mnistData();
    const l = await logits(zoo, test.labels.length);
    let correct = 0;
    for (let i = 0; i < test.labels.length; i++) {
      let b = 0;
      for (let k = 1; k < 10; k++) if (l[i * 10 + k]! > l[i * 10 + b]!) b = k;
      if (b === test.labels[i]) correct++;
    }
    expect(rep.rows[0]!.accuracy).toBeCloseTo(correct / test.labels.length, 10);
    expect(rep.rows[1]!.ratio).toBeGreaterThan(3);
    expect(rep.rows[1]!.fidelity!.top1Agreement).toBeGreaterThan(0.98);
    expect(readdirSync(join(dir, 'rep')).sort()).toEqual(['MODEL_CARD.md', 'report.json', 'report.md']);
    expect(readFileSync(join(dir, 'rep', 'report.md'), 'utf8')).toMatch(/Pareto front/);
  });

  it('inspect says which dynamic input dims its FLOPs figure counts as 1 (batch axes aside)', async () => {
    const cls = join(dirname(fileURLToPath(import.meta.resolve('@whittle/testing/corpus'))), '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
    // PaddleOCR's classifier takes x [N, 3, H, W] with N, H and W dynamic
    expect((await whittleInProcess('inspect', cls)).stdout.split('\n')[0]).toMatch(/~\d+ FLOPs \(\d+ multiply-adds\) per sample \(dynamic input dims taken as 1: x axes 2, 3; --dims sizes named ones\)$/);
    // LeNet-300-100: only the batch axis is dynamic
    expect((await whittleInProcess('inspect', zoo)).stdout.split('\n')[0]).toMatch(/~\d+ FLOPs \(\d+ multiply-adds\) per sample$/);
  });

  it('inspect piped into head exits quietly (EPIPE is not an error)', () => {
    const big = join(dirname(fileURLToPath(import.meta.resolve('@whittle/testing/corpus'))), '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" inspect "${big}" | head -n 2; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(/rc=0$/m);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('bad inputs exit non-zero, name the problem and leave no output', async () => {
    const out = join(dir, 'never.onnx');
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not an onnx model');
    const bad: [string[], number, RegExp][] = [
      [['quantize', 'weights', join(dir, 'missing.onnx'), '-o', out], 2, /missing\.onnx' does not exist/],
      [['quantize', 'weights', junk, '-o', out], 1, /junk\.onnx|ONNX|protobuf/i],
      [['quantize', 'weights', zoo, '-o', out, '--bogus', '1'], 2, /unknown option '--bogus'/],
      [['quantize', 'weights', zoo, '-o', out, '--bits', 'four'], 2, /--bits must be a number/],
      [['quantize', 'weights', zoo, '-o', out, '--bits', '9'], 2, /UsageError: --bits must be <= 8, got 9/],
      [['quantize', 'weights', zoo, '-o', zoo], 2, /is the input model/],
      [['frobnicate', zoo], 2, /unknown command 'frobnicate'/],
      [['prune', 'gradual', zoo, '-o', out], 1, /needs training data/],
      // a run that compresses nothing fails and says what the pass found
      [['quantize', 'weights', zoo, '-o', out, '--ops', 'Gather', '--json'], 1, /NoCompressionError: nothing compressed: no step changed the model \(quantize-weights: /],
    ];
    const recipes: [string, RegExp][] = [
      ['passes:\n  - pass: no-such-pass\n', /no-such-pass/],
      ['passes: 3\n', /passes/],
      ['passes:\n  - pass: quantize-weights\n    options: { bitz: 4 }\n', /bitz/],
      ['passes: [unclosed\n', /YAML|JSON|recipe/i],
    ];
    recipes.forEach(([text], i) => writeFileSync(join(dir, `bad${i}.yaml`), text));
    for (const [i, [, re]] of recipes.entries()) bad.push([['run', join(dir, `bad${i}.yaml`), zoo, '-o', out], 1, re]);
    // a failure (exit 1) and a command-line parse error (exit 2) through the bin (its exit codes and
    // stderr), the rest in this process
    for (const [k, [args, code, re]] of bad.entries()) {
      const r = k === 1 || k === 2 ? whittle(...args) : await whittleInProcess(...args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(re);
      // a command-line parse error ends with a hint, not a screenful of help burying it
      if (/^error: unknown (option|command)/m.test(r.stderr)) expect(r.stderr, args.join(' ')).toMatch(/\(add --help for the command's options\)\s*$/);
      expect(r.stderr, args.join(' ')).not.toMatch(/^Options:/m);
      expect(existsSync(out), args.join(' ')).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-')), args.join(' ')).toEqual([]);
    }
  });

  it('flags shared by every pass command reject NaN, fractions and unknown names (usage errors, no output)', async () => {
    const out = join(dir, 'never-flags.onnx');
    const bad: [string[], RegExp][] = [
      // Number('abc') is NaN: the run would go on with a NaN seed
      [['quantize', 'dynamic', zoo, '-o', out, '--seed', 'abc'], /--seed must be an integer >= 0, got 'abc'/],
      [['quantize', 'dynamic', zoo, '-o', out, '--seed', '1.5'], /--seed must be an integer/],
      [['quantize', 'static', zoo, '-o', out, '--data', 'synthetic:4', '--calibration-samples', '0'], /--calibration-samples must be an integer >= 1, got '0'/],
      [['quantize', 'static', zoo, '-o', out, '--data', 'synthetic:4', '--calibration-samples', 'many'], /--calibration-samples must be an integer/],
      [['quantize', 'dynamic', zoo, '-o', out, '--backend', 'gpu'], /--backend must be cpu or webgpu, got 'gpu'/],
      // refused when parsed, not after the passes ran
      [['quantize', 'dynamic', zoo, '-o', out, '--transformers-js', 'q5'], /--transformers-js must be one of fp32, .*q4f16.*, got 'q5'/],
    ];
    // in this process: the bin's usage exit code is checked with the bad inputs above
    for (const [args, re] of bad) {
      const r = await whittleInProcess(...args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      // a command-line parse error ends with a hint, not a screenful of help burying it
      if (/^error: unknown (option|command)/m.test(r.stderr)) expect(r.stderr, args.join(' ')).toMatch(/\(add --help for the command's options\)\s*$/);
      expect(r.stderr, args.join(' ')).not.toMatch(/^Options:/m);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
  });

  it('stopping bin/whittle-source.mjs stops the CLI it runs (a spawn timeout left it running without a parent)', async () => {
    const marker = join(dir, `orphan-check-${process.pid}.onnx`);
    const rec = join(dirname(fileURLToPath(import.meta.resolve('@whittle/testing/corpus'))), '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
    // a run long enough to be stopped midway: mixed precision's per-layer sensitivity on PaddleOCR rec
    const wrapper = spawn(process.execPath, [bin, 'quantize', 'mixed', rec, '--data', 'synthetic:8', '-o', marker], { stdio: 'ignore' });
    const cli = (): string[] => spawnSync('pgrep', ['-f', `main.ts quantize mixed .*${marker}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    const until = async (ok: () => boolean, ms: number): Promise<boolean> => {
      for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 200))) if (ok()) return true;
      return ok();
    };
    expect(await until(() => cli().length > 0, 60_000)).toBe(true);
    const exited = new Promise((r) => wrapper.on('exit', r));
    wrapper.kill('SIGTERM');
    await exited;
    expect(await until(() => cli().length === 0, 20_000), `still running: ${cli().join(', ')}`).toBe(true);
    expect(existsSync(marker)).toBe(false);
  }, 120_000);

  it('a step summary that starts with its pass name is printed with the name once', async () => {
    const out = join(dir, 'pruned-once.onnx');
    const r = await whittleInProcess('prune', 'unstructured', zoo, '-o', out, '--sparsity', '0.3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^prune-unstructured: magnitude layer-wise to 30\.0 %/m);
    expect(r.stdout).not.toMatch(/prune-unstructured: prune-unstructured/);
  });
});
