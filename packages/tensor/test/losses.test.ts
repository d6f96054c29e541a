import { expect, it } from 'vitest';
import {
  crossEntropy,
  klDivergence,
  mseLoss,
  tensor,
  matmul,
  add,
  argmax,
  noGrad,
  Rng,
  SGD,
  Adam,
  kaimingUniform,
  zeros,
  ArgumentError,
  DTypeError,
  ShapeError,
} from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData } from '@whittle/testing';


/** float64 log-softmax of row-major [n, c] */
function logSoftmaxRef(x: Float64Array, n: number, c: number, T = 1): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < c; j++) mx = Math.max(mx, x[i * c + j]! / T);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(x[i * c + j]! / T - mx);
    const lse = mx + Math.log(s);
    for (let j = 0; j < c; j++) out[i * c + j] = x[i * c + j]! / T - lse;
  }
  return out;
}

describeBackends('losses', () => {
  const n = 5;
  const c = 7;
  const logitsData = randomData(n * c, 1, 3);
  const labelsData = [3, 0, 6, 2, 3];
  const lp = logSoftmaxRef(logitsData, n, c);
  const perSampleRef = (eps: number) =>
    labelsData.map((y, i) => {
      let meanLp = 0;
      for (let j = 0; j < c; j++) meanLp += lp[i * c + j]! / c;
      return -(1 - eps) * lp[i * c + y]! - eps * meanLp;
    });

  it('crossEntropy with class indices (int32 and int64), all reductions, label smoothing', async () => {
    const logits = tensor(Float32Array.from(logitsData), [n, c]);
    for (const dtype of ['int32', 'int64'] as const) {
      const labels = tensor(labelsData, [n], dtype);
      for (const eps of [0, 0.1]) {
        const ref = perSampleRef(eps);
        const sumRef = ref.reduce((a, b) => a + b, 0);
        await expectClose(crossEntropy(logits, labels, { labelSmoothing: eps, reduction: 'none' }), ref, [n]);
        await expectClose(crossEntropy(logits, labels, { labelSmoothing: eps }), [sumRef / n], []);
        await expectClose(crossEntropy(logits, labels, { labelSmoothing: eps, reduction: 'sum' }), [sumRef], []);
      }
    }
  });

  it('crossEntropy is stable for huge logits', async () => {
    const logits = tensor([1000, 0, -1000, 1e4, 1e4 - 2, 0], [2, 3]);
    const r = crossEntropy(logits, tensor([1, 1], [2], 'int32'), { reduction: 'none' });
    const l2 = Math.log(1 + Math.exp(-2)) + 2;
    await expectClose(r, [1000, l2], [2], 1e-5, 1e-3);
  });

  it('crossEntropy with probability targets (+ smoothing) and its gradients', async () => {
    const tgtRaw = randomData(n * c, 2).map(Math.abs);
    const tgt = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += tgtRaw[i * c + j]!;
      for (let j = 0; j < c; j++) tgt[i * c + j] = Math.fround(tgtRaw[i * c + j]! / s);
    }
    const eps = 0.2;
    const ref = new Array(n).fill(0).map((_, i) => {
      let s = 0;
      for (let j = 0; j < c; j++) s -= ((1 - eps) * tgt[i * c + j]! + eps / c) * lp[i * c + j]!;
      return s;
    });
    const logits = tensor(Float32Array.from(logitsData), [n, c]);
    const targets = tensor(Float32Array.from(tgt), [n, c]);
    await expectClose(crossEntropy(logits, targets, { reduction: 'none', labelSmoothing: eps }), ref, [n]);
    await checkGradients((x) => crossEntropy(x, targets, { labelSmoothing: eps }), [logits]);
    await checkGradients((x) => crossEntropy(x, tensor(labelsData, [n], 'int32'), { labelSmoothing: 0.1, reduction: 'none' }), [logits]);
  });

  it('klDivergence at temperature T (no T² factor) against float64, with gradients', async () => {
    const sData = randomData(n * c, 3, 2);
    const tData = randomData(n * c, 4, 2);
    for (const T of [1, 2.5]) {
      const ls = logSoftmaxRef(sData, n, c, T);
      const lt = logSoftmaxRef(tData, n, c, T);
      let kl = 0;
      for (let i = 0; i < n * c; i++) kl += Math.exp(lt[i]!) * (lt[i]! - ls[i]!);
      const s = tensor(Float32Array.from(sData), [n, c]);
      const t = tensor(Float32Array.from(tData), [n, c]);
      await expectClose(klDivergence(s, t, { temperature: T }), [kl / n], []);
      await checkGradients((x) => klDivergence(x, t, { temperature: T }), [s]);
    }
    // identical distributions give 0; rank-3 logits average over all leading positions
    const x = tensor(Float32Array.from(sData.slice(0, 24)), [2, 3, 4]);
    await expectClose(klDivergence(x, x), [0], [], 1e-5, 1e-6);
  });

  it('mseLoss (mean, sum, none) with gradients', async () => {
    const a = randomData(12, 5);
    const b = randomData(12, 6);
    const d2 = Array.from(a, (x, i) => (x - b[i]!) ** 2);
    const ta = tensor(Float32Array.from(a), [3, 4]);
    const tb = tensor(Float32Array.from(b), [3, 4]);
    await expectClose(mseLoss(ta, tb), [d2.reduce((p, q) => p + q, 0) / 12], []);
    await expectClose(mseLoss(ta, tb, { reduction: 'sum' }), [d2.reduce((p, q) => p + q, 0)], []);
    await expectClose(mseLoss(ta, tb, { reduction: 'none' }), d2, [3, 4]);
    await checkGradients((x, y) => mseLoss(x, y), [ta, tb]);
  });

  it('rejects bad inputs with typed errors', () => {
    const logits = tensor(Float32Array.from(logitsData), [n, c]);
    expect(() => crossEntropy(logits, tensor([1, 2], [2], 'int32'))).toThrow(ShapeError);
    expect(() => crossEntropy(tensor([1, 2], [2]), tensor([1], [1], 'int32'))).toThrow(/logits must be \[N, C\]/);
    expect(() => crossEntropy(logits, tensor(labelsData, [n], 'uint8'))).toThrow(DTypeError);
    expect(() => crossEntropy(logits, tensor(labelsData, [n], 'int32'), { labelSmoothing: 1 })).toThrow(ArgumentError);
    expect(() => crossEntropy(logits, tensor(labelsData, [n], 'int32'), { reduction: 'avg' as 'mean' })).toThrow(/reduction 'avg'/);
    expect(() => klDivergence(logits, tensor([1, 2], [1, 2]))).toThrow(ShapeError);
    expect(() => klDivergence(logits, logits, { temperature: 0 })).toThrow(ArgumentError);
    expect(() => mseLoss(logits, tensor([1], [1]))).toThrow(ShapeError);
  });

  it('end to end: logistic regression on separable data reaches 100% (SGD and Adam)', async () => {
    const rng = new Rng(5);
    const N = 64;
    const D = 6;
    const K = 3;
    const wTrue = Array.from({ length: D * K }, () => rng.normal());
    const xs = new Float32Array(N * D);
    const ys: number[] = [];
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < D; d++) xs[i * D + d] = rng.normal();
      let best = 0;
      let bestV = -Infinity;
      for (let k = 0; k < K; k++) {
        let v = 0;
        for (let d = 0; d < D; d++) v += xs[i * D + d]! * wTrue[d * K + k]!;
        if (v > bestV) [best, bestV] = [k, v];
      }
      ys.push(best);
    }
    const x = tensor(xs, [N, D]);
    const y = tensor(ys, [N], 'int64');
    for (const make of [(p: never[]) => new SGD(p, { lr: 0.5, momentum: 0.9 }), (p: never[]) => new Adam(p, { lr: 0.05 })]) {
      const w = kaimingUniform([D, K], new Rng(1), { fans: { fanIn: D, fanOut: K } }).requireGrad();
      const b = zeros([K]).requireGrad();
      const opt = make([w, b] as never[]);
      let first = 0;
      let last = 0;
      for (let it = 0; it < 300; it++) {
        opt.zeroGrad();
        const loss = crossEntropy(add(matmul(x, w), b), y);
        if (it === 0) first = await loss.item();
        if (it === 299) last = await loss.item();
        loss.backward();
        opt.step();
      }
      const pred = await noGrad(() => argmax(add(matmul(x, w), b), 1, false)).toFloat64();
      const acc = Array.from(pred).filter((p, i) => p === ys[i]).length / N;
      expect(acc).toBe(1);
      expect(last).toBeLessThan(first / 4);
    }
  }, 120_000);
});
