import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Model, PassDataError, createPassContext, mlpTemplate, runModel } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { distillOnData, distillPass, distillOptions, interpreterTeacher } from '../src/index.js';
import { ortTeacher } from '../src/node.js';


/** A bag-of-tokens classifier: int64 token ids [N, S] → Gather embedding → ReduceMean over S → Gemm → logits. */
function tokenClassifier(vocab: number, d: number, classes: number, seed: number): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder(`tokens_${d}`);
  b.input('input_ids', 'int64', ['batch', 'seq']);
  const f32 = (n: number, shape: number[], std: number) => tensor(Float32Array.from({ length: n }, () => rng.normal() * std), shape, 'float32', { backend: 'cpu' });
  const emb = b.initializer('emb', f32(vocab * d, [vocab, d], 0.5));
  const w = b.initializer('w', f32(d * classes, [classes, d], 0.5));
  const bias = b.initializer('b', f32(classes, [classes], 0));
  const pooled = b.node('ReduceMean', [b.node('Gather', [emb, 'input_ids'], { axis: 0 })], { axes: [1], keepdims: 0 });
  b.output(b.node('Gemm', [pooled, w, bias], { transB: 1 }, { outputNames: ['logits'] }), 'float32', ['batch', classes]);
  return b.model([{ domain: '', version: 17 }]);
}

function argmaxRows(v: Float32Array, c: number): number[] {
  return Array.from({ length: v.length / c }, (_, i) => {
    const row = Array.from(v.subarray(i * c, (i + 1) * c));
    return row.indexOf(Math.max(...row));
  });
}

describe('distillation on data fed by input name', () => {
  it('a token-sequence teacher (int64 input_ids) teaches a smaller student; agreement rises, ORT runs it', async () => {
    const rng = new Rng(3);
    const [n, S, vocab] = [256, 8, 20];
    const ids = BigInt64Array.from({ length: n * S }, () => BigInt(Math.floor(rng.uniform() * vocab)));
    const teacher = tokenClassifier(vocab, 32, 3, 1);
    const student = tokenClassifier(vocab, 4, 3, 2);
    const feeds = { input_ids: tensor(ids, [n, S], 'int64', { backend: 'cpu' }) };
    const tPred = argmaxRows((await runModel(teacher, feeds)).get('logits')!.dataSync() as Float32Array, 3);
    const agreement = async (m: Model): Promise<number> => {
      const p = argmaxRows((await runModel(m, feeds)).get('logits')!.dataSync() as Float32Array, 3);
      return p.filter((c, i) => c === tPred[i]).length / n;
    };
    const before = await agreement(student);
    const ctx = createPassContext({ seed: 0, backend: 'cpu', training: { feeds: { input_ids: { data: ids, shape: [n, S], dtype: 'int64' } } }, resources: { teacher: await ortTeacher(writeModel(teacher)) } }, distillOptions.parse({ epochs: 30, lr: 0.02, temperature: 2 }, 'distill'));
    const r = await distillPass.run(student, ctx);
    const after = await agreement(r.model);
    console.log(`token distillation (teacher d=32 → student d=4): agreement ${before.toFixed(3)} -> ${after.toFixed(3)}; ${r.report.summary}`);
    expect(r.report.details?.['soft']).toBe('kl');
    expect(after).toBeGreaterThan(0.85);
    expect(after).toBeGreaterThan(before + 0.2);
    const s = await ort.InferenceSession.create(writeModel(r.model));
    const o = await s.run({ input_ids: new ort.Tensor('int64', ids, [n, S]) });
    const ours = (await runModel(r.model, feeds)).get('logits')!.dataSync() as Float32Array;
    const theirs = o['logits']!.data as Float32Array;
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - theirs[i]!)).toBeLessThan(1e-4);
    await s.release();
  });

  it('regression heads distil by MSE to the teacher, with float targets as the hard term', async () => {
    const rng = new Rng(4);
    const n = 200;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const y = Float32Array.from({ length: n }, (_, i) => x[i * 3]! - 2 * x[i * 3 + 2]!);
    // teacher: an exact linear regressor written as a graph
    const b = new GraphBuilder('reg_teacher');
    b.input('input', 'float32', ['N', 3]);
    b.output(b.node('MatMul', ['input', b.initializer('w', tensor(Float32Array.from([1, 0, -2]), [3, 1], 'float32', { backend: 'cpu' }))], {}, { outputNames: ['logits'] }), 'float32', ['N', 1]);
    const student = mlpTemplate({ layers: [3, 16, 1] }, new Rng(5));
    const mse = async (m: Model) => {
      const out = (await runModel(m, { input: tensor(x, [n, 3], 'float32', { backend: 'cpu' }) })).get('logits')!.dataSync() as Float32Array;
      return out.reduce((a, v, i) => a + (v - y[i]!) ** 2, 0) / n;
    };
    const before = await mse(student);
    const r = await distillOnData(student, { teacher: interpreterTeacher(b.model([{ domain: '', version: 17 }])), data: { feeds: { input: { data: x, shape: [n, 3], dtype: 'float32' } }, targets: { data: y, shape: [n, 1], dtype: 'float32' } }, epochs: 40, lr: 0.01, batchSize: 32 });
    const after = await mse(r.model);
    console.log(`regression distillation: mse ${before.toFixed(3)} -> ${after.toFixed(4)} (soft ${r.soft}, hard ${r.hard}, alpha ${r.alpha})`);
    expect(r.soft).toBe('mse');
    expect(r.hard).toBe('mse');
    expect(after).toBeLessThan(before / 10);
  });

  it('without targets, a single-score or mask output is matched to the teacher by MSE (by default and with loss mse), never by a softmax over one column', async () => {
    const rng = new Rng(6);
    const n = 200;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const b = new GraphBuilder('score_teacher');
    b.input('input', 'float32', ['N', 3]);
    b.output(b.node('MatMul', ['input', b.initializer('w', tensor(Float32Array.from([1, 0, -2]), [3, 1], 'float32', { backend: 'cpu' }))], {}, { outputNames: ['logits'] }), 'float32', ['N', 1]);
    const teacher = b.model([{ domain: '', version: 17 }]);
    const err = async (m: Model): Promise<number> => {
      const t = (await runModel(teacher, { input: tensor(x, [n, 3], 'float32', { backend: 'cpu' }) })).get('logits')!.dataSync() as Float32Array;
      const s = (await runModel(m, { input: tensor(x, [n, 3], 'float32', { backend: 'cpu' }) })).get('logits')!.dataSync() as Float32Array;
      return s.reduce((a, v, i) => a + (v - t[i]!) ** 2, 0) / n;
    };
    const feeds = { input: { data: x, shape: [n, 3], dtype: 'float32' as const } };
    for (const task of [undefined, { loss: 'mse' as const }]) {
      const student = mlpTemplate({ layers: [3, 16, 1] }, new Rng(7));
      const before = await err(student);
      const r = await distillOnData(student, { teacher: interpreterTeacher(teacher), data: { feeds, ...(task ? { task } : {}) }, epochs: 30, lr: 0.01, batchSize: 32 });
      expect([r.soft, r.hard, r.alpha]).toEqual(['mse', undefined, 1]);
      expect(await err(r.model)).toBeLessThan(before / 10);
    }
  });

  it('refuses image-only options for data fed by name, and a runner without runFeeds', async () => {
    const student = tokenClassifier(5, 2, 2, 0);
    const training = { feeds: { input_ids: { data: new BigInt64Array(8), shape: [2, 4], dtype: 'int64' as const } } };
    const ctx = createPassContext({ seed: 0, backend: 'cpu', training, resources: { teacher: interpreterTeacher(student) } }, distillOptions.parse({ mixup: 1 }, 'distill'));
    await expect(distillPass.run(student, ctx)).rejects.toThrow(PassDataError);
    await expect(distillOnData(student, { teacher: { outputs: ['logits'], run: async () => [] }, data: training, epochs: 1 })).rejects.toThrow(/no runFeeds/);
  });
});
