/**
 * Float16 models are factorized in float16: the SVD / Tucker-2 runs on the weights' values and the
 * factors are written as float16, so the graph stays a float16 graph onnxruntime runs.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { float32ToFloat16Bits, tensor } from '@whittle/tensor';
import '../src/index.js';
import { Rng, diff, lowRankish, randn, runOrt } from './helpers.js';

const fp16 = (values: Float32Array, shape: number[]) => tensor(Uint16Array.from(values, float32ToFloat16Bits), shape, 'float16', { backend: 'cpu' });
const fp32 = (values: Float32Array, shape: number[]) => tensor(values, shape, 'float32', { backend: 'cpu' });
type Make = typeof fp16;

/** float32 x → Cast → MatMul(96×128, rank ~8) → Relu → Conv-free head Gemm(transB, 128→32) → Cast. */
function mlp(rng: Rng, w: Make): Model {
  const fp = w === fp16;
  const b = new GraphBuilder('mlp16');
  const xin = b.input('x', 'float32', ['N', 96]);
  const x = fp ? b.node('Cast', [xin], { to: 10 }) : xin;
  let h = b.node('MatMul', [x, b.initializer('w1', w(lowRankish(rng, 96, 128, 8), [96, 128]))], {}, { name: 'fc1' });
  h = b.node('Relu', [h]);
  h = b.node('Gemm', [h, b.initializer('w2', w(lowRankish(rng, 32, 128, 6), [32, 128])), b.initializer('b2', w(randn(rng, 32, 0.1), [32]))], { transB: 1 }, { name: 'fc2' });
  b.output(fp ? b.node('Cast', [h], { to: 1 }, { outputNames: ['y'] }) : b.node('Identity', [h], {}, { outputNames: ['y'] }), 'float32', ['N', 32]);
  return b.model([{ domain: '', version: 17 }]);
}

/** float32 x → Cast → Conv 32→64 3×3 (weight near rank 6 in both modes) → Cast. */
function conv(rng: Rng, make: Make): Model {
  const fp = make === fp16;
  const b = new GraphBuilder('conv16');
  const xin = b.input('x', 'float32', [1, 32, 10, 10]);
  const x = fp ? b.node('Cast', [xin], { to: 10 }) : xin;
  const w = lowRankish(rng, 64, 32 * 9, 6);
  const h = b.node('Conv', [x, b.initializer('cw', make(w, [64, 32, 3, 3]))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' });
  b.output(fp ? b.node('Cast', [h], { to: 1 }, { outputNames: ['y'] }) : b.node('Identity', [h], {}, { outputNames: ['y'] }), 'float32', [1, 64, 10, 10]);
  return b.model([{ domain: '', version: 17 }]);
}


const count = (x: Model) => [...x.graph.initializers.values()].reduce((a, t) => a + t.size, 0);

/**
 * The float16 model factorized as its float32 twin is (same values, same ranks), its factors
 * float16; onnxruntime's outputs differ from the float32 factorization's by float16 rounding only.
 */
async function sameAsFloat32(pass: string, build: (rng: Rng, make: Make) => Model, seed: number, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<void> {
  const [m16, m32] = [build(new Rng(seed), fp16), build(new Rng(seed), fp32)];
  const [r16, r32] = [await runPass(pass, m16, { energy: 0.99 }), await runPass(pass, m32, { energy: 0.99 })];
  expect(r16.report.changed).toBe(true);
  expect([...r16.model.graph.initializers.values()].every((t) => t.dtype === 'float16')).toBe(true);
  expect(count(r16.model)).toBe(count(r32.model));
  expect(count(r16.model)).toBeLessThan(0.5 * count(m16));
  const [y16, y32, orig16, orig32] = [await runOrt(r16.model, feeds), await runOrt(r32.model, feeds), await runOrt(m16, feeds), await runOrt(m32, feeds)];
  expect(diff(y16.y!, y32.y!).rel).toBeLessThan(0.005);
  // what factorizing costs is the same in float16 as in float32
  expect(Math.abs(diff(y16.y!, orig16.y!).rel - diff(y32.y!, orig32.y!).rel)).toBeLessThan(0.005);
}

describe('low-rank factorization of float16 models', () => {
  it('MatMul and Gemm: float16 factors of the float32 ranks, onnxruntime agrees with the float32 factorization', async () => {
    await sameAsFloat32('lowrank-linear', mlp, 5, { x: { data: randn(new Rng(1), 8 * 96), shape: [8, 96] } });
  });

  it('Conv (Tucker-2): float16 factors of the float32 ranks, onnxruntime agrees with the float32 factorization', async () => {
    await sameAsFloat32('lowrank-conv', conv, 6, { x: { data: randn(new Rng(2), 32 * 100), shape: [1, 32, 10, 10] } });
  });
});
