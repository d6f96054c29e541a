import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type Augment, PassDataError, mlpTemplate, predictClasses, runModel, runRecipe, trainClassifier, type Model } from '@whittle/graph';
import { ArgumentError, Rng, ShapeError, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import '@whittle/prune';
import { accuracyOf, checkGradients, linearTask } from '@whittle/testing';
import { type TeacherRunner, distill, distillationLoss, interpreterTeacher } from '../src/index.js';
import { ortTeacher } from '../src/node.js';


/** The model written as ONNX runs in onnxruntime-node and matches Whittle's interpreter. */
async function expectOrtMatches(model: Model, x: Float32Array): Promise<void> {
  const s = await ort.InferenceSession.create(writeModel(model));
  const out = await s.run({ x: new ort.Tensor('float32', x.slice(0, 20 * 16), [16, 20]) });
  const ours = (await runModel(model, { x: tensor(x.slice(0, 20 * 16), [16, 20]) })).get(model.graph.outputs[0]!.name)!.dataSync() as Float32Array;
  const theirs = out[s.outputNames[0]!]!.data as Float32Array;
  expect(theirs.length).toBe(ours.length);
  for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - theirs[i]!)).toBeLessThan(1e-4);
  await s.release();
}

let teacherModel: Model | undefined;
async function teacher(): Promise<Model> {
  teacherModel ??= (await trainClassifier(mlpTemplate({ layers: [20, 128, 128, 4], inputName: 'x' }, new Rng(1)), { ...linearTask(2048, 1), sampleShape: [20], epochs: 8, lr: 3e-3, seed: 1 })).model;
  return teacherModel;
}

describe('distillation loss', () => {
  it('matches alpha·T²·KL(p_t‖p_s) + (1 − alpha)·CE computed in float64', () => {
    const s = [[1, 2, 0.5], [-1, 0, 3]];
    const t = [[2, 1, 0], [0, 0, 4]];
    const labels = [1, 2];
    const T = 2;
    const alpha = 0.7;
    const sm = (v: number[], tt: number) => {
      const e = v.map((x) => Math.exp(x / tt));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    };
    let kl = 0, ce = 0;
    for (let i = 0; i < 2; i++) {
      const ps = sm(s[i]!, T), pt = sm(t[i]!, T);
      for (let k = 0; k < 3; k++) kl += pt[k]! * Math.log(pt[k]! / ps[k]!);
      ce += -Math.log(sm(s[i]!, 1)[labels[i]!]!);
    }
    const want = alpha * T * T * (kl / 2) + (1 - alpha) * (ce / 2);
    const st = tensor(s.flat(), [2, 3]);
    const tt = tensor(t.flat(), [2, 3]);
    const lt = tensor(BigInt64Array.from([1n, 2n]), [2], 'int64');
    expect(distillationLoss(st, tt, lt, { alpha, temperature: T }).dataSync()[0]).toBeCloseTo(want, 5);
    expect(distillationLoss(st, tt, undefined, { alpha: 1, temperature: T }).dataSync()[0]).toBeCloseTo(T * T * (kl / 2), 5);
    expect(() => distillationLoss(st, tt, undefined, { alpha: 0.5, temperature: T })).toThrow(/needs labels/);
  });

  it('has correct gradients (finite differences)', async () => {
    const rng = new Rng(2);
    const s = tensor(Array.from({ length: 12 }, () => rng.normal()), [3, 4]);
    const t = tensor(Array.from({ length: 12 }, () => rng.normal()), [3, 4]);
    const l = tensor(BigInt64Array.from([0n, 3n, 1n]), [3], 'int64');
    await checkGradients((x) => distillationLoss(x, t, l, { alpha: 0.6, temperature: 3 }), [s]);
  });
});

describe('distill', () => {
  it('a small student learns the teacher label-free; onnxruntime and interpreter teachers agree; the student runs in onnxruntime', async () => {
    const tm = await teacher();
    const test = linearTask(512, 2);
    const tOrt = await ortTeacher(writeModel(tm));
    const tInt = interpreterTeacher(tm);
    // data the teacher cannot take: a typed error that says it is the teacher, and what it takes
    const bad = await tOrt.run(test.x.subarray(0, 10 * 8), [8, 10]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ArgumentError);
    expect((bad as Error).message).toMatch(/the teacher cannot run on the training data \(given \S+ \[8, 10\] float32; the teacher takes \S+ \[[^\]]*20\] float32\)/);
    const a = await tOrt.run(test.x.subarray(0, 20 * 8), [8, 20]);
    const b = await tInt.run(test.x.subarray(0, 20 * 8), [8, 20]);
    for (let i = 0; i < a[0]!.length; i++) expect(Math.abs(a[0]![i]! - b[0]![i]!)).toBeLessThan(1e-4);
    const unlabeled = linearTask(2048, 3).x; // labels unused: label-free distillation
    const student = mlpTemplate({ layers: [20, 16, 4], inputName: 'x' }, new Rng(5));
    const r = await distill(student, { teacher: tOrt, x: unlabeled, sampleShape: [20], epochs: 6, lr: 5e-3, seed: 1, temperature: 2 });
    await tOrt.release?.();
    expect(r.cachedTeacher).toBe(true);
    expect(r.history[5]!.loss).toBeLessThan(r.history[0]!.loss);
    const tp = await predictClasses(tm, test.x, [20]);
    const sp = await predictClasses(r.model, test.x, [20]);
    expect(accuracyOf(sp, tp)).toBeGreaterThan(0.85); // agrees with the teacher it never saw labels of
    await expectOrtMatches(r.model, test.x);
  });

  it('beats the same student trained on labels alone with few labels (same data, epochs, seed)', async () => {
    const tm = await teacher();
    const test = linearTask(512, 2);
    const small = linearTask(128, 7); // 128 labeled samples: soft targets carry what the labels do not
    const student = () => mlpTemplate({ layers: [20, 16, 4], inputName: 'x' }, new Rng(1));
    const common = { ...small, sampleShape: [20], epochs: 60, lr: 5e-3, seed: 1, batchSize: 32 };
    const ce = await trainClassifier(student(), common);
    const kd = await distill(student(), { ...common, teacher: interpreterTeacher(tm), alpha: 0.9, temperature: 2 });
    const accCe = accuracyOf(await predictClasses(ce.model, test.x, [20]), test.labels);
    const accKd = accuracyOf(await predictClasses(kd.model, test.x, [20]), test.labels);
    expect(accKd).toBeGreaterThan(accCe + 0.03);
  });

  it('computes teacher outputs once across epochs, per batch under augmentation; mismatched outputs are a ShapeError', async () => {
    const tm = await teacher();
    const data = linearTask(300, 8);
    const inner = interpreterTeacher(tm);
    let calls = 0;
    const counting: TeacherRunner = { outputs: inner.outputs, run: (x, d) => ((calls += 1), inner.run(x, d)) };
    const student = () => mlpTemplate({ layers: [20, 8, 4], inputName: 'x' }, new Rng(3));
    // a student from a compact spec: the same graph mlpTemplate builds
    const a = await distill({ mlp: { layers: [20, 8, 4], inputName: 'x' } }, { teacher: counting, ...data, sampleShape: [20], epochs: 3, batchSize: 100, seed: 1 });
    expect([...a.model.graph.initializers.values()].map((t) => t.shape)).toEqual([...student().graph.initializers.values()].map((t) => t.shape));
    expect(a.cachedTeacher).toBe(true);
    expect(calls).toBe(2); // 300 samples in cache batches of 256, reused by all 3 epochs
    calls = 0;
    let seen = 0;
    const jitter: Augment = (x, n, _shape, rng) => {
      seen += n;
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + 0.01 * rng.normal();
    };
    const b = await distill(student(), { teacher: counting, ...data, sampleShape: [20], epochs: 3, batchSize: 100, seed: 1, augment: jitter });
    expect(b.cachedTeacher).toBe(false);
    expect(seen).toBe(900);
    expect(calls).toBe(1 + 9); // the one-sample shape probe + every augmented batch
    const threeClasses = mlpTemplate({ layers: [20, 8, 3], inputName: 'x' }, new Rng(3));
    await expect(distill(threeClasses, { teacher: inner, ...data, sampleShape: [20], epochs: 1 })).rejects.toThrow(ShapeError);
    await expect(distill(threeClasses, { teacher: inner, ...data, sampleShape: [20], epochs: 1 })).rejects.toThrow(/3 values per sample but the teacher's .* has 4/);
  });

  it('the pass jitters image batches with rotate/scale (teacher per batch, reproducible) and refuses them on non-images', async () => {
    // 20 features seen as 4x5 images by graphs that flatten them
    const img = (m: number, seed: number) => mlpTemplate({ layers: [20, m, 4], inputName: 'x', flattenInput: [1, 4, 5] }, new Rng(seed));
    const data = linearTask(256, 5);
    const tm = (await trainClassifier(img(32, 1), { ...data, sampleShape: [1, 4, 5], epochs: 2, lr: 3e-3, seed: 1 })).model;
    const opts = (sampleShape: number[]) => ({ seed: 1, training: { ...data, sampleShape }, resources: { teacher: interpreterTeacher(tm) } });
    const run = (options: Record<string, number>, sampleShape = [1, 4, 5]) => runRecipe(img(8, 2), { passes: [{ pass: 'distill', options: { epochs: 1, ...options } }] }, opts(sampleShape));
    const plain = await run({});
    const jitter = await run({ rotate: 15, scale: 0.1, shift: 1 });
    const details = (r: Awaited<ReturnType<typeof run>>) => r.steps[0]!.report.details as { cachedTeacher: boolean };
    expect(details(plain).cachedTeacher).toBe(true);
    expect(details(jitter).cachedTeacher).toBe(false); // the teacher labels every jittered batch
    expect(writeModel((await run({ rotate: 15, scale: 0.1, shift: 1 })).model)).toEqual(writeModel(jitter.model));
    expect(writeModel(jitter.model)).not.toEqual(writeModel(plain.model));
    await expect(run({ rotate: 15 }, [20])).rejects.toThrow(/images \[\.\.\., H, W\]/);
  });

  it('feature matching trains a projection from student to teacher features', async () => {
    const tm = await teacher();
    const data = linearTask(512, 4);
    const student = mlpTemplate({ layers: [20, 16, 4], inputName: 'x' }, new Rng(6));
    // feature names: the hidden activations (Relu outputs) of both graphs
    const sFeat = student.graph.nodes.find((n) => n.opType === 'Relu')!.outputs[0]!;
    const tFeat = tm.graph.nodes.find((n) => n.opType === 'Relu')!.outputs[0]!;
    const withFeat = interpreterTeacher(tm, { features: [tFeat] });
    const r = await distill(student, { teacher: withFeat, x: data.x, labels: data.labels, sampleShape: [20], epochs: 3, seed: 2, features: [{ student: sFeat, teacher: tFeat, weight: 0.1 }] });
    expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    expect(r.history[2]!.loss).toBeLessThan(r.history[0]!.loss);
    await expect(distill(student, { teacher: withFeat, x: data.x, sampleShape: [20], epochs: 1, features: [{ student: sFeat, teacher: 'nope' }] })).rejects.toThrow(/'nope' is not among/);
    await expect(distill(student, { teacher: withFeat, x: data.x, labels: data.labels.subarray(0, 5), sampleShape: [20], epochs: 1 })).rejects.toThrow(/5 labels for 512 samples/);
  });

  it('recipe prune-structured -> distill recovers the shrunk teacher; a missing teacher is a typed error', async () => {
    const tm = await teacher();
    const train = linearTask(2048, 1);
    const test = linearTask(512, 2);
    const training = { ...train, sampleShape: [20] };
    const pruned = await runRecipe(tm, { passes: [{ pass: 'prune-structured', options: { sparsity: 0.5 } }] }, { seed: 1 });
    const recipe = { passes: [{ pass: 'prune-structured', options: { sparsity: 0.5 } }, { pass: 'distill', options: { epochs: 4, lr: 3e-3, temperature: 2 } }] };
    const opts = { seed: 1, training, resources: { teacher: interpreterTeacher(tm) } };
    const both = await runRecipe(tm, recipe, opts);
    const again = await runRecipe(tm, recipe, opts);
    expect(writeModel(again.model)).toEqual(writeModel(both.model)); // same seed → same bytes
    const hidden = (m: Model) => m.graph.initializers.get('fc1.weight')!.shape[0];
    expect(hidden(both.model)).toBe(hidden(tm)! / 2); // 50 % of fc1's neurons removed, then distilled
    const accPruned = accuracyOf(await predictClasses(pruned.model, test.x, [20]), test.labels);
    const accBoth = accuracyOf(await predictClasses(both.model, test.x, [20]), test.labels);
    const accTeacher = accuracyOf(await predictClasses(tm, test.x, [20]), test.labels);
    expect(accTeacher).toBeGreaterThan(0.85);
    expect(accBoth).toBeGreaterThan(accPruned);
    await expectOrtMatches(both.model, test.x);
    await expect(runRecipe(tm, { passes: [{ pass: 'distill' }] }, { training })).rejects.toThrow(/needs a teacher/);
    await expect(runRecipe(tm, { passes: [{ pass: 'distill', options: { temprature: 2 } }] }, opts)).rejects.toThrow(/temprature/);
    await expect(runRecipe(tm, { passes: [{ pass: 'distill' }] }, { resources: { teacher: interpreterTeacher(tm) } })).rejects.toThrow(/needs training samples/);
    await expect(runRecipe(tm, { passes: [{ pass: 'distill' }] }, { training })).rejects.toSatisfy((e: Error & { cause?: unknown }) => e.cause instanceof PassDataError);
  });
});
