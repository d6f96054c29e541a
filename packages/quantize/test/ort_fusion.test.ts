import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, normalizeModel, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { mnistData, zooModel } from '@whittle/testing/zoo';
import { torchvisionResnet18 } from '@whittle/testing/exporters';
import * as ort from 'onnxruntime-node';
import { writeModel } from '@whittle/onnx';
import '../src/index.js';
import { imageInput, resnetCnn } from './models.js';
import { ortOptimizedOps } from './ort_optimized.js';
import { randomArray } from './helpers.js';

const QUANTIZED = ['Conv', 'MatMul', 'Gemm'];
const count = (c: Record<string, number>, k: string): number => c[k] ?? 0;
/** QLinearConv is an ONNX op (com.microsoft after the NHWC layout pass), QGemm/QLinearAdd are com.microsoft. */
const fused = (c: Record<string, number>, op: string): number => count(c, op) + count(c, `com.microsoft:${op}`);

async function logits(model: Model, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(writeModel(model));
  const out = await s.run({ [model.graph.inputs[0]!.name]: new ort.Tensor('float32', x, dims) });
  await s.release();
  return Object.values(out)[0]!.data as Float32Array;
}

function argmaxRows(a: Float32Array, classes: number): number[] {
  const r: number[] = [];
  for (let i = 0; i < a.length / classes; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (a[i * classes + c]! > a[i * classes + best]!) best = c;
    r.push(best);
  }
  return r;
}

/**
 * Static int8 QDQ → onnxruntime's optimized graph: every quantized Conv/Gemm/MatMul must have
 * become the fused op the pass report names (details.ortFusion), no float Conv/MatMul/Gemm is
 * left, and no DequantizeLinear feeds a float op the pass said would be fused.
 */
async function expectFused(model: Model, calibration: () => AsyncGenerator<Feeds>): Promise<{ q: Model; ops: Record<string, number> }> {
  const before = model.graph.nodes.filter((n) => QUANTIZED.includes(n.opType)).length;
  const r = await runPass('quantize-static', model, {}, { calibration: calibration() });
  const fusion = r.report.details!.ortFusion as { fused: Record<string, number>; unfused: Record<string, string> };
  expect(Object.keys(fusion.unfused)).toEqual([]);
  expect(Object.values(fusion.fused).reduce((a, b) => a + b, 0)).toBe(before);
  const ops = await ortOptimizedOps(r.model, 'extended');
  for (const op of QUANTIZED) expect(count(ops, op), `float ${op} left after onnxruntime optimization: ${JSON.stringify(ops)}`).toBe(0);
  for (const [op, n] of Object.entries(fusion.fused)) expect(fused(ops, op), `${op} in ${JSON.stringify(ops)}`).toBe(n);
  return { q: r.model, ops };
}

describe('static int8 QDQ is fused by onnxruntime (CPU) into QLinearConv / QGemm / QLinearMatMul', () => {
  it('LeNet-300-100 and LeNet-5 (MNIST zoo): every Gemm/Conv fused, top-1 agreement >= 98 % on the test split', async () => {
    const data = await mnistData();
    for (const name of ['lenet300100', 'lenet5'] as const) {
      const { model } = await zooModel(name);
      const shape = [1, 28, 28];
      const sample = shape.reduce((a, b) => a * b, 1);
      // calibration: 128 training images spread over the digit-major order; evaluation: test split
      async function* calibration(): AsyncGenerator<Feeds> {
        for (let b = 0; b < 2; b++) {
          const x = new Float32Array(64 * sample);
          for (let i = 0; i < 64; i++) x.set(data.train.images.subarray(((b * 64 + i) * 61 % 7992) * 784, ((b * 64 + i) * 61 % 7992 + 1) * 784), i * 784);
          yield { [model.graph.inputs[0]!.name]: tensor(x, [64, ...shape]) };
        }
      }
      const { q, ops } = await expectFused(model, calibration);
      if (name === 'lenet5') expect(fused(ops, 'QLinearConv')).toBe(2);
      const n = 500;
      // every 4th test image (the split is digit-major): 500 images of all digits
      const xs = new Float32Array(n * 784);
      for (let i = 0; i < n; i++) xs.set(data.test.images.subarray(i * 4 * 784, (i * 4 + 1) * 784), i * 784);
      const a = argmaxRows(await logits(model, xs, [n, ...shape]), 10);
      const b = argmaxRows(await logits(q, xs, [n, ...shape]), 10);
      const agree = a.filter((v, i) => v === b[i]).length / n;
      expect(agree, name).toBeGreaterThanOrEqual(0.98);
    }
  }, 60_000);

  it('torchvision-style ResNet-18 (64x64): 20 QLinearConv, QLinearAdd on every residual, QLinearGlobalAveragePool, QGemm; top-1 agreement on inputs disjoint from calibration', async () => {
    const model = (await normalizeModel(torchvisionResnet18({ height: 64, width: 64, classes: 10 }))).model;
    const input = (n: number, seed: number) => ({ data: randomArray(n * 3 * 64 * 64, new Rng(seed)), dims: [n, 3, 64, 64] });
    async function* calibration(): AsyncGenerator<Feeds> {
      for (let b = 0; b < 2; b++) {
        const f = input(4, 100 + b);
        yield { input: tensor(f.data, f.dims) };
      }
    }
    const { q, ops } = await expectFused(model, calibration);
    expect(fused(ops, 'QLinearConv')).toBe(20);
    // every residual Add, the global average pool and the classifier run in int8: no float island
    // (DequantizeLinear → Add → Relu → GlobalAveragePool → QuantizeLinear) before the QGemm
    expect(fused(ops, 'QLinearAdd')).toBe(8);
    expect(fused(ops, 'QLinearGlobalAveragePool'), JSON.stringify(ops)).toBe(1);
    for (const op of ['GlobalAveragePool', 'DequantizeLinear', 'Add', 'Relu']) expect(count(ops, op), `${op} in ${JSON.stringify(ops)}`).toBe(0);
    const f = input(32, 7);
    const ref = await logits(model, f.data, f.dims);
    const out = await logits(q, f.data, f.dims);
    let d = 0, x2 = 0, y2 = 0;
    for (let i = 0; i < ref.length; i++) [d, x2, y2] = [d + ref[i]! * out[i]!, x2 + ref[i]! ** 2, y2 + out[i]! ** 2];
    expect(d / Math.sqrt(x2 * y2)).toBeGreaterThanOrEqual(0.98);
  }, 60_000);

  it('small ResNet-style CNN: fused, and the report names the fused op of every layer', async () => {
    const model = resnetCnn();
    async function* calibration(): AsyncGenerator<Feeds> {
      for (let b = 0; b < 2; b++) {
        const f = imageInput(8, 50 + b);
        yield { x: tensor(f.data, f.dims) };
      }
    }
    const { q } = await expectFused(model, calibration);
    expect(q.graph.nodes.some((n) => n.opType === 'QuantizeLinear')).toBe(true);
  });
});
