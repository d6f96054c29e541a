/**
 * bnb4 (NF4 / FP4) weights as com.microsoft MatMulBnb4 in onnxruntime-node: a MatMul and a Gemm
 * with bias against x · W dequantized by the bitsandbytes rule computed here (float64, blocks over
 * the flattened transposed weight), Whittle's interpreter against onnxruntime, and a recognizer
 * exported by another tool (PaddleOCR's, paddle2onnx) against its float outputs.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runModel, runPass, validateModel } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { quantizeBnb4Pass } from '../src/bnb4.js';
import { convertFloat16Pass } from '../src/float16.js';
import { modelBytes, ortRun, randomArray, relError } from './helpers.js';
import { CORPUS, corpusFeeds, corpusModel, ortOutputs } from './real_models.js';

// the 16 levels of each data type as bitsandbytes publishes them
const LEVELS = {
  nf4: [-1, -0.6961928009986877, -0.5250730514526489, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1],
  fp4: [0, 0.0052083333, 0.6666667, 1, 0.3333333, 0.5, 0.1666667, 0.25, -0, -0.0052083333, -0.6666667, -1, -0.3333333, -0.5, -0.1666667, -0.25],
};

const K = 96; // blocks of 64 over the flattened [N, K] cross rows
const N = 40;
const rng = new Rng(5);
const w = randomArray(K * N, rng, 0.1); // MatMul B [K, N]
const bias = randomArray(N, rng, 0.1);
const x = randomArray(3 * K, rng);

function models(): { mm: Model; gemm: Model } {
  const a = new GraphBuilder('mm');
  a.output(a.node('MatMul', [a.input('x', 'float32', [3, K]), a.initializer('w', tensor(w, [K, N], 'float32', { backend: 'cpu' }))], {}, { name: 'mm', outputNames: ['y'] }), 'float32', [3, N]);
  // Gemm with transB = 1 reads the weight as [N, K]
  const wt = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) wt[n * K + k] = w[k * N + n]!;
  const g = new GraphBuilder('gemm');
  g.output(g.node('Gemm', [g.input('x', 'float32', [3, K]), g.initializer('w', tensor(wt, [N, K], 'float32', { backend: 'cpu' })), g.initializer('b', tensor(bias, [N], 'float32', { backend: 'cpu' }))], { transB: { type: 'int', value: 1 } }, { name: 'gemm', outputNames: ['y'] }), 'float32', [3, N]);
  return { mm: a.model([{ domain: '', version: 17 }]), gemm: g.model([{ domain: '', version: 17 }]) };
}

/** x · Ŵ (+ bias) with Ŵ by the bnb4 rule: per block of the flattened [N, K], nearest level × absmax. */
function reference(levels: number[], blockSize: number, withBias: boolean): Float64Array {
  const t = new Float64Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[n * K + k] = w[k * N + n]!;
  const d = new Float64Array(N * K);
  for (let b0 = 0; b0 < N * K; b0 += blockSize) {
    const end = Math.min(N * K, b0 + blockSize);
    let m = 0;
    for (let i = b0; i < end; i++) m = Math.max(m, Math.abs(t[i]!));
    const absmax = Math.fround(m);
    for (let i = b0; i < end; i++) {
      const v = t[i]! / absmax;
      let best = 0;
      for (let c = 1; c < 16; c++) if (Math.abs(levels[c]! - v) < Math.abs(levels[best]! - v)) best = c;
      d[i] = Math.fround(levels[best]!) * absmax;
    }
  }
  const y = new Float64Array(3 * N);
  for (let r = 0; r < 3; r++) for (let n = 0; n < N; n++) {
    let s = withBias ? bias[n]! : 0;
    for (let k = 0; k < K; k++) s += x[r * K + k]! * d[n * K + k]!;
    y[r * N + n] = s;
  }
  return y;
}

describe('quantize-bnb4: MatMulBnb4 in onnxruntime', () => {
  for (const quantType of ['nf4', 'fp4'] as const) {
    it(`${quantType}: MatMul and Gemm with bias match x · Ŵ computed here at blocks 16 and 64; the interpreter matches onnxruntime`, async () => {
      const { mm, gemm } = models();
      for (const blockSize of [16, 64]) {
        for (const [name, m] of [['mm', mm], ['gemm', gemm]] as const) {
          const r = await runPass(quantizeBnb4Pass, m, { quantType, blockSize });
          validateModel(r.model);
          const node = r.model.graph.nodes.find((n) => n.opType === 'MatMulBnb4')!;
          expect(node.domain).toBe('com.microsoft');
          expect(node.attributes.get('quant_type')?.value).toBe(quantType === 'nf4' ? 1 : 0);
          expect(r.model.graph.initializers.has('w')).toBe(false);
          expect(modelBytes(r.model)).toBeLessThan(modelBytes(m) / 4);
          const ort = (await ortRun(r.model, { x: { data: x, dims: [3, K] } })).y!;
          const ref = reference(LEVELS[quantType], blockSize, name === 'gemm');
          expect(relError(ort, ref), `${name} block ${blockSize}`).toBeLessThan(1e-5);
          const ours = (await runModel(r.model, { x: tensor(x, [3, K]) })).get('y')!.dataSync() as Float32Array;
          expect(relError(ours, ort)).toBeLessThan(1e-5);
          // 4 bits of a normal-ish weight: a few % of the output
          const float = (await ortRun(m, { x: { data: x, dims: [3, K] } })).y!;
          expect(relError(ort, float)).toBeLessThan(quantType === 'nf4' ? 0.12 : 0.2);
        }
      }
    });
  }

  it('float16 weights: float16 absmax (MatMulBnb4 computes in A\'s type) and onnxruntime runs it', async () => {
    const half = (await runPass(convertFloat16Pass, models().mm, { keepIoTypes: true })).model;
    expect(half.graph.initializers.get('w')!.dtype).toBe('float16');
    const r = await runPass(quantizeBnb4Pass, half, { blockSize: 64 });
    const absmax = [...r.model.graph.initializers].find(([n]) => n.endsWith('_absmax'))![1];
    expect(absmax.dtype).toBe('float16');
    const y = (await ortRun(r.model, { x: { data: x, dims: [3, K] } })).y!;
    // the float16 weights are the float32 ones rounded: the same codes within float16 noise
    expect(relError(y, reference(LEVELS.nf4, 64, false))).toBeLessThan(5e-3);
  });

  it('refuses a block size that is not a power of two; a model without MatMul/Gemm weights is left unchanged', async () => {
    await expect(runPass(quantizeBnb4Pass, models().mm, { blockSize: 48 })).rejects.toThrow(/power of two/);
    const b = new GraphBuilder('relu');
    b.output(b.node('Relu', [b.input('x', 'float32', [2, 3])], {}, { outputNames: ['y'] }), 'float32', [2, 3]);
    const r = await runPass(quantizeBnb4Pass, b.model([{ domain: '', version: 17 }]), {});
    expect(r.report.changed).toBe(false);
    // a weight another node reads too would stay float beside its codes: skipped, saying why
    const sh = new GraphBuilder('shared');
    const wk = sh.initializer('w', tensor(randomArray(K * K, rng, 0.1), [K, K], 'float32', { backend: 'cpu' }));
    sh.output(sh.node('Add', [sh.node('MatMul', [sh.input('x', 'float32', [2, K]), wk]), wk], {}, { outputNames: ['y'] }), 'float32', [K, K]);
    const s = await runPass(quantizeBnb4Pass, sh.model([{ domain: '', version: 17 }]), {});
    expect(s.report.changed).toBe(false);
    expect(s.report.summary).toMatch(/1 weights skipped: 1 also read by another node/);
  });

  it("PaddleOCR's text recognizer (paddle2onnx): its MatMul weights in NF4 keep the character scores", async () => {
    const model = await corpusModel('ocr-rec');
    const r = await runPass(quantizeBnb4Pass, model, {});
    expect(r.report.stats!.layers).toBeGreaterThan(0);
    expect(modelBytes(r.model)).toBeLessThan(modelBytes(model));
    const feeds = corpusFeeds(CORPUS.find((m) => m.id === 'ocr-rec')!);
    const [a] = await ortOutputs(model, feeds);
    const [q] = await ortOutputs(r.model, feeds);
    expect(relError(q!, a!)).toBeLessThan(0.1);
  });
});
