/** Task metrics against references computed by hand (small cases) or in float64 in the test. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '@whittle/tensor';
import { PerplexityAccumulator, RegressionAccumulator, TopKAccumulator, compareEmbeddings, compareOutputs, poolEmbeddings } from '../src/index.js';
import { EvaluationError, loadUserMetric } from '../src/node.js';

describe('classification top-1 / top-k', () => {
  it('counts a label within the k highest scores; ties go to the lower class', () => {
    // 3 rows of 4 classes; k = 2
    const scores = [0.1, 0.7, 0.15, 0.05, /* */ 0.3, 0.2, 0.4, 0.1, /* */ 0.25, 0.25, 0.25, 0.25];
    const acc = new TopKAccumulator(2).add(scores.slice(0, 8), 4, [1, 0]).add(scores.slice(8), 4, [1]);
    // row 0: label 1 is top → top1, top2; row 1: label 0 is 2nd → top2 only; row 2: all tied, label 1 ranks 2nd → top2 only
    expect(acc.result()).toEqual({ count: 3, top1: 1 / 3, topK: 1, k: 2 });
    expect(new TopKAccumulator(5).add([1, 2], 2, [0]).result()).toEqual({ count: 1, top1: 0, topK: 1, k: 2 });
    expect(() => new TopKAccumulator().add([1, 2, 3], 2, [0])).toThrow(/classification needs \[N, classes\] outputs/);
    expect(() => new TopKAccumulator().add([1, 2], 2, [2])).toThrow(/label 2 of row 0 is not a class index/);
  });
});

describe('fidelity (no labels)', () => {
  it('cosine, SQNR and top-1 agreement by hand', () => {
    const ref = [1, 0, 0, 1];
    const cand = [1, 0.5, 0.5, 0.25]; // rows [1,0]→[1,.5] agree; [0,1]→[.5,.25] disagree
    const m = compareOutputs(ref, cand, { numClasses: 2 });
    const dot = 1 + 0.25;
    expect(m.cosine).toBeCloseTo(dot / (Math.sqrt(2) * Math.sqrt(1 + 0.25 + 0.25 + 0.0625)), 12);
    expect(m.sqnrDb).toBeCloseTo(10 * Math.log10(2 / (0.25 + 0.25 + 0.5625)), 12);
    expect(m.top1Agreement).toBe(0.5);
  });
});

describe('language-model perplexity', () => {
  it('next-token NLL by hand, padding left out, a longer decoder mask aligned to its end', () => {
    // B=1, T=3, V=2: logits at t=0 predict ids[1], t=1 predicts ids[2]
    const logits = [0, 0, /* t1 */ 2, 0, /* t2 (unused) */ 5, 5];
    const ids = [0n, 1n, 0n];
    const p = new PerplexityAccumulator().add(logits, [1, 3, 2], ids).result();
    const nll0 = Math.log(2); // uniform, target 1
    const nll1 = Math.log(1 + Math.exp(-2)); // target 0 with logit 2 vs 0
    expect(p.tokens).toBe(2);
    expect(p.meanNll).toBeCloseTo((nll0 + nll1) / 2, 12);
    expect(p.perplexity).toBeCloseTo(Math.exp((nll0 + nll1) / 2), 12);
    expect(p.nextTokenAccuracy).toBe(0.5); // t0: argmax 0 (tie → first) ≠ 1; t1: argmax 0 = 0
    // mask [1, 1, 0]: the padded last token is not a target
    const m = new PerplexityAccumulator().add(logits, [1, 3, 2], ids, [1, 1, 0]).result();
    expect(m.tokens).toBe(1);
    expect(m.meanNll).toBeCloseTo(nll0, 12);
    // a mask of past + current (5 for T = 3): its last 3 entries apply
    expect(new PerplexityAccumulator().add(logits, [1, 3, 2], ids, [1, 1, 1, 1, 0]).result().meanNll).toBeCloseTo(nll0, 12);
    expect(() => new PerplexityAccumulator().add(logits, [3, 2], ids)).toThrow(/logits must be \[batch, sequence, vocab\]/);
    expect(() => new PerplexityAccumulator().add(logits, [1, 3, 2], [0, 7, 0])).toThrow(/token id 7 .* outside the vocabulary of 2/);
  });
});

describe('regression', () => {
  it('MSE, MAE, RMSE, R² by hand over two batches', () => {
    const r = new RegressionAccumulator().add([1, 2], [1, 4]).add([5], [2]).result();
    // errors 0, -2, 3
    expect(r.mse).toBeCloseTo(13 / 3, 12);
    expect(r.mae).toBeCloseTo(5 / 3, 12);
    expect(r.rmse).toBeCloseTo(Math.sqrt(13 / 3), 12);
    const mean = 7 / 3;
    expect(r.r2).toBeCloseTo(1 - 13 / ((1 - mean) ** 2 + (4 - mean) ** 2 + (2 - mean) ** 2), 12);
    expect(() => new RegressionAccumulator().add([1], [1, 2])).toThrow(ArgumentError);
  });
});

describe('embeddings', () => {
  it('mean pooling with a mask, cosine to the original and retrieval agreement@k by hand', () => {
    // [1, 3, 2] with the last position padded
    const pooled = poolEmbeddings([1, 2, 3, 4, 100, 100], [1, 3, 2], [1, 1, 0]);
    expect(Array.from(pooled.rows)).toEqual([2, 3]);
    // 4 samples in 2-D; the candidate swaps sample 3's direction
    const ref = [1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9];
    const cand = [1, 0, 0.9, 0.1, 0, 1, 1, 0.05];
    const r = compareEmbeddings(ref, cand, 2, 1);
    // nearest neighbour (k = 1) by cosine, computed here
    const nn = (e: number[], i: number): number => {
      let best = -1, bs = -Infinity;
      for (let j = 0; j < 4; j++) {
        if (j === i) continue;
        const s = (e[2 * i]! * e[2 * j]! + e[2 * i + 1]! * e[2 * j + 1]!) / (Math.hypot(e[2 * i]!, e[2 * i + 1]!) * Math.hypot(e[2 * j]!, e[2 * j + 1]!));
        if (s > bs) [bs, best] = [s, j];
      }
      return best;
    };
    let agree = 0;
    for (let i = 0; i < 4; i++) if (nn(ref, i) === nn(cand, i)) agree++;
    expect(r.retrievalAgreement).toBeCloseTo(agree / 4, 12);
    expect(agree).toBeLessThan(4);
    const cos3 = (0.1 * 1 + 0.9 * 0.05) / (Math.hypot(0.1, 0.9) * Math.hypot(1, 0.05));
    expect(r.minCosine).toBeCloseTo(cos3, 12);
    expect(r.meanCosine).toBeCloseTo((3 + cos3) / 4, 12);
  });
});

describe('user metric module', () => {
  it('loads a default-exported function and checks it returns named numbers', async () => {
    const d = mkdtempSync(join(tmpdir(), 'whittle-metric-'));
    writeFileSync(join(d, 'm.mjs'), 'export default ({ outputs, labels }) => ({ first: outputs.y.data[0], n: labels.length });\n');
    writeFileSync(join(d, 'bad.mjs'), 'export default () => ({ x: "no" });\n');
    writeFileSync(join(d, 'none.mjs'), 'export const f = 1;\n');
    const m = await loadUserMetric(join(d, 'm.mjs'));
    expect(await m({ outputs: { y: { data: Float32Array.of(2.5), dims: [1] } }, inputs: {}, labels: Int32Array.of(1, 2) })).toEqual({ first: 2.5, n: 2 });
    await expect((await loadUserMetric(join(d, 'bad.mjs')))({ outputs: {}, inputs: {} })).rejects.toThrow(/x: "no"; every value must be a number/);
    await expect(loadUserMetric(join(d, 'none.mjs'))).rejects.toThrow(EvaluationError);
    await expect(loadUserMetric(join(d, 'missing.mjs'))).rejects.toThrow(/cannot be loaded/);
  });
});
