import { describe, expect, it } from 'vitest';
import { MIXUP_SEED_OFFSET, mixupBatch, mlpTemplate, trainClassifier } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { linearTask } from '@whittle/testing';
import { type TeacherRunner, distill, distillationLoss, interpreterTeacher } from '../src/index.js';

const softmax = (v: number[], T: number): number[] => {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp((x - m) / T));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
};

describe('distillation loss gradient', () => {
  it('is alpha·T·(softmax(s/T) − softmax(t/T))/N + (1 − alpha)·(softmax(s) − y)/N, by hand', () => {
    const s = [[1, 2, 0.5, -1], [-1, 0, 3, 0.2]];
    const t = [[2, 1, 0, 0.5], [0, 0, 4, -2]];
    const T = 3, alpha = 0.8, N = 2;
    // hard labels and mixed (probability) labels both follow the same formula with y the target distribution
    const cases: [ReturnType<typeof tensor>, number[][]][] = [
      [tensor(BigInt64Array.from([1n, 2n]), [2], 'int64'), [[0, 1, 0, 0], [0, 0, 1, 0]]],
      [tensor([0.3, 0.7, 0, 0, 0, 0, 0.6, 0.4], [2, 4]), [[0.3, 0.7, 0, 0], [0, 0, 0.6, 0.4]]],
    ];
    for (const [labels, y] of cases) {
      const st = tensor(s.flat(), [2, 4]).requireGrad();
      distillationLoss(st, tensor(t.flat(), [2, 4]), labels, { alpha, temperature: T }).backward();
      const g = st.grad!.dataSync() as Float32Array;
      for (let i = 0; i < N; i++) {
        const ps = softmax(s[i]!, T), pt = softmax(t[i]!, T), p1 = softmax(s[i]!, 1);
        for (let k = 0; k < 4; k++) {
          const want = (alpha * T * (ps[k]! - pt[k]!) + (1 - alpha) * (p1[k]! - y[i]![k]!)) / N;
          expect(g[i * 4 + k]).toBeCloseTo(want, 6);
        }
      }
    }
  });

  it('T² keeps the soft gradient on the T = 1 scale for small logits (the high-temperature limit (s − t)/N·C)', () => {
    // for logits with zero mean, T·(softmax(s/T) − softmax(t/T)) → (s − t)/C as T grows (Hinton et al. 2015, §2.1)
    const s = [0.3, -0.1, -0.2], t = [-0.4, 0.5, -0.1];
    const st = tensor(s, [1, 3]).requireGrad();
    distillationLoss(st, tensor(t, [1, 3]), undefined, { alpha: 1, temperature: 50 }).backward();
    const g = st.grad!.dataSync() as Float32Array;
    for (let k = 0; k < 3; k++) expect(g[k]).toBeCloseTo((s[k]! - t[k]!) / 3, 3);
  });
});

describe('distill with mixup (function matching)', () => {
  it('the teacher labels exactly the mixed batch the student trains on; labels are mixed alike', async () => {
    const data = linearTask(96, 3);
    const tm = mlpTemplate({ layers: [20, 8, 4], inputName: 'x' }, new Rng(7));
    const inner = interpreterTeacher(tm);
    const seen: Float32Array[] = [];
    const recording: TeacherRunner = { outputs: inner.outputs, run: (x, d) => (seen.push(x.slice()), inner.run(x, d)) };
    const seed = 5;
    const r = await distill(mlpTemplate({ layers: [20, 6, 4], inputName: 'x' }, new Rng(1)), {
      teacher: recording, x: data.x, labels: data.labels, sampleShape: [20], epochs: 1, batchSize: 32, seed, mixup: 0.4,
    });
    expect(r.cachedTeacher).toBe(false);
    expect(seen.length).toBe(1 + 3); // the shape probe, then every mixed batch
    // hand reference for the first batch: distill's shuffle (Rng(seed)), then mixup from Rng(seed + MIXUP_SEED_OFFSET)
    const order = new Rng(seed).shuffle(Int32Array.from({ length: 96 }, (_, i) => i)) as Int32Array;
    const mixRng = new Rng(seed + MIXUP_SEED_OFFSET);
    for (let b = 0; b < 3; b++) {
      const idx = order.subarray(b * 32, b * 32 + 32);
      const xb = new Float32Array(32 * 20);
      idx.forEach((i, k) => xb.set(data.x.subarray(i * 20, i * 20 + 20), k * 20));
      const mix = mixupBatch(xb, 32, [20], 0.4, mixRng);
      expect(seen[1 + b]).toEqual(xb);
      expect(mix.lambda.some((l) => l > 0.05 && l < 0.95)).toBe(true); // really mixed
    }
    // a mixup run is deterministic for a seed (the mixed one-hot labels are checked against trainClassifier below)
    const again = await distill(mlpTemplate({ layers: [20, 6, 4], inputName: 'x' }, new Rng(1)), {
      teacher: inner, x: data.x, labels: data.labels, sampleShape: [20], epochs: 1, batchSize: 32, seed, mixup: 0.4,
    });
    expect(again.history[0]!.loss).toBe(r.history[0]!.loss);
    await expect(distill(tm, { teacher: inner, x: data.x, sampleShape: [20], epochs: 1, mixup: -1 })).rejects.toThrow(/mixup must be >= 0/);
  });

  it('alpha 0 with mixup is trainClassifier with mixup (same pairs, weights and mixed labels)', async () => {
    const data = linearTask(64, 4);
    const student = () => mlpTemplate({ layers: [20, 6, 4], inputName: 'x' }, new Rng(2));
    const common = { x: data.x, labels: data.labels, sampleShape: [20], epochs: 2, batchSize: 16, seed: 3, lr: 1e-2, mixup: 1 };
    const kd = await distill(student(), { ...common, teacher: interpreterTeacher(student()), alpha: 0 });
    const ce = await trainClassifier(student(), common);
    const a = kd.model.graph.initializers.get('fc1.weight')!.dataSync() as Float32Array;
    const b = ce.model.graph.initializers.get('fc1.weight')!.dataSync() as Float32Array;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    expect(kd.history[1]!.loss).toBeCloseTo(ce.history[1]!.loss, 5);
  });
});
