/**
 * Float16 models (the `model_fp16.onnx` people download) are pruned in float16: every pruning pass
 * finds their float16 weights, scores them as float32 values, writes them back as float16 (the
 * kept weights bit for bit), and onnxruntime runs the result.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { float32ToFloat16Bits, tensor } from '@whittle/tensor';
import '../src/index.js';
import { Rng, calibration, diff, randn, runOrt } from './helpers.js';

const fp16 = (values: Float32Array, shape: number[]) => tensor(Uint16Array.from(values, float32ToFloat16Bits), shape, 'float16', { backend: 'cpu' });

/** float32 x [N, 64] → Cast → MatMul(64×128) + b → Relu → MatMul(128×32) → Cast → y: a float16 graph with float32 I/O. */
function mlp16(seed: number): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('mlp16');
  const x = b.node('Cast', [b.input('x', 'float32', ['N', 64])], { to: 10 });
  let h = b.node('MatMul', [x, b.initializer('w1', fp16(randn(rng, 64 * 128, 0.15), [64, 128]))], {}, { name: 'fc1' });
  h = b.node('Relu', [b.node('Add', [h, b.initializer('b1', fp16(randn(rng, 128, 0.1), [128]))])]);
  h = b.node('MatMul', [h, b.initializer('w2', fp16(randn(rng, 128 * 32, 0.1), [128, 32]))], {}, { name: 'fc2' });
  b.output(b.node('Cast', [h], { to: 1 }, { outputNames: ['y'] }), 'float32', ['N', 32]);
  return b.model([{ domain: '', version: 17 }]);
}

/** float32 x [1, 8, 12, 12] → Cast → Conv 8→32 3×3 + b → Relu → Conv 32→16 3×3 + b → Cast → y. */
function cnn16(seed: number): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('cnn16');
  const x = b.node('Cast', [b.input('x', 'float32', [1, 8, 12, 12])], { to: 10 });
  let h = b.node('Conv', [x, b.initializer('c1', fp16(randn(rng, 32 * 8 * 9, 0.2), [32, 8, 3, 3])), b.initializer('c1b', fp16(randn(rng, 32, 0.1), [32]))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1' });
  h = b.node('Conv', [b.node('Relu', [h]), b.initializer('c2', fp16(randn(rng, 16 * 32 * 9, 0.1), [16, 32, 3, 3])), b.initializer('c2b', fp16(randn(rng, 16, 0.1), [16]))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv2' });
  b.output(b.node('Cast', [h], { to: 1 }, { outputNames: ['y'] }), 'float32', [1, 16, 12, 12]);
  return b.model([{ domain: '', version: 17 }]);
}

const bits = (m: Model, name: string): Uint16Array => {
  const t = m.graph.initializers.get(name)!;
  expect(t.dtype, name).toBe('float16');
  return t.dataSync() as Uint16Array;
};

/** Rows of correlated features with a few loud ones, as real activations have (iid noise would make every method alike). */
function activations(rng: Rng, rows: number): Float32Array {
  const x = randn(rng, rows * 64);
  for (let r = 0; r < rows; r++) {
    for (let j = 1; j < 64; j++) x[r * 64 + j] = 0.6 * x[r * 64 + j]! + 0.8 * x[r * 64 + j - 1]!;
    for (let j = 0; j < 64; j += 16) x[r * 64 + j] = x[r * 64 + j]! * 6;
  }
  return x;
}

describe('pruning float16 models', () => {
  const rng = new Rng(7);
  const feeds = { x: { data: activations(rng, 64), shape: [64, 64] } };
  const calib = () => calibration('x', [0, 1, 2, 3].map(() => ({ data: activations(rng, 32), shape: [32, 64] })));

  it('magnitude, 2:4, Wanda and SparseGPT: float16 kept, 50 % zeros, kept weights bit-identical (SparseGPT: updated), onnxruntime runs it; Wanda and SparseGPT err less than magnitude', async () => {
    const m = mlp16(1);
    const ref = (await runOrt(m, feeds)).outputs.y!;
    const err: Record<string, number> = {};
    for (const [label, pass, opts, calibrated] of [
      ['magnitude', 'prune-unstructured', { sparsity: 0.5 }, false],
      ['2:4', 'prune-nm', { n: 2, m: 4 }, false],
      ['wanda', 'prune-unstructured', { sparsity: 0.5, method: 'wanda' }, true],
      ['sparsegpt', 'prune-sparsegpt', { sparsity: 0.5 }, true],
    ] as const) {
      const r = await runPass(pass, m, opts, calibrated ? { calibration: calib() } : {});
      expect(r.report.changed, label).toBe(true);
      for (const w of ['w1', 'w2']) {
        const before = bits(m, w);
        const after = bits(r.model, w);
        const zeros = after.filter((h) => h === 0).length;
        expect(zeros / after.length, `${label} ${w}`).toBeCloseTo(0.5, 2);
        // pruning alone never changes a kept weight; SparseGPT updates them (OBS)
        if (label !== 'sparsegpt') for (let i = 0; i < after.length; i++) if (after[i] !== 0) expect(after[i], `${label} ${w}[${i}]`).toBe(before[i]);
      }
      const out = (await runOrt(r.model, feeds)).outputs.y!;
      err[label] = diff(out, ref).rel;
      expect(err[label], label).toBeLessThan(0.8);
    }
    expect(err.sparsegpt).toBeLessThan(err.magnitude!);
    expect(err.wanda).toBeLessThan(err.magnitude!);
  });

  it('structured: channels of float16 convolutions (and their biases) removed, still float16, onnxruntime runs it', async () => {
    const m = cnn16(2);
    const r = await runPass('prune-structured', m, { sparsity: 0.25 });
    expect(r.report.changed).toBe(true);
    expect(r.model.graph.initializers.get('c1')!.shape).toEqual([24, 8, 3, 3]);
    expect(r.model.graph.initializers.get('c2')!.shape).toEqual([16, 24, 3, 3]);
    for (const w of ['c1', 'c1b', 'c2']) bits(r.model, w);
    // the kept filters are the original float16 values
    const kept = bits(r.model, 'c1b');
    const orig = Array.from(bits(m, 'c1b'));
    for (const h of kept) expect(orig).toContain(h);
    const x = { x: { data: randn(new Rng(3), 8 * 144), shape: [1, 8, 12, 12] } };
    const out = (await runOrt(r.model, x)).outputs.y!;
    expect(out.length).toBe(16 * 144);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
