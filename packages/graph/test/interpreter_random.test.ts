import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import type { Tensor } from '@whittle/tensor';
import { runModel } from '../src/interpreter/run.js';
import { cpu, oneNode, runOrt, type OneNode } from './interpreter_harness.js';

/**
 * The random generators on cpu and webgpu: the output shape matches onnxruntime's, the same
 * seed gives the same values, and seeded samples have the distribution asked for (moments of
 * normal and uniform draws, Bernoulli frequencies, Multinomial class frequencies).
 */
async function run(spec: OneNode, backend: 'cpu' | 'webgpu'): Promise<Tensor[]> {
  const model = oneNode(spec);
  const out = await runModel(model, spec.feeds, { backend });
  return model.graph.outputs.map((o) => out.get(o.name)!);
}
const mean = (v: Float64Array): number => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: Float64Array): number => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));

const normal: OneNode = { op: 'RandomNormal', feeds: {}, inputs: [], attrs: { shape: [200, 100], mean: 2, scale: 0.5, seed: 3 }, floatAttrs: ['mean', 'scale', 'seed'], outputs: ['float32'] };
const uniformLike: OneNode = { op: 'RandomUniformLike', feeds: { x: cpu(new Array(20000).fill(0), [100, 200]) }, inputs: ['x'], attrs: { low: -1, high: 3, seed: 1.5 }, floatAttrs: ['low', 'high', 'seed'], outputs: ['float32'] };
const bernoulli: OneNode = { op: 'Bernoulli', feeds: { p: cpu(Array.from({ length: 20000 }, (_, i) => (i % 2 ? 0.2 : 0.9)), [20000]) }, inputs: ['p'], attrs: { seed: 7 }, floatAttrs: ['seed'], outputs: ['float32'], opset: 15 };
const multinomial: OneNode = { op: 'Multinomial', feeds: { x: cpu([0, Math.log(3), Math.log(6), 0, 0, 0], [2, 3]) }, inputs: ['x'], attrs: { sample_size: 20000, seed: 11 }, floatAttrs: ['seed'], outputs: ['int32'], opset: 7 };

describeBackends('random ops', ({ backend }) => {
  it('output shapes and dtypes match onnxruntime', async () => {
    for (const spec of [normal, uniformLike, bernoulli, multinomial]) {
      const [want] = await runOrt(oneNode(spec), spec.feeds);
      const [got] = await run(spec, backend);
      expect([...got!.shape], spec.op).toEqual(want!.shape);
      expect(got!.dtype, spec.op).toBe(spec.outputs[0]);
    }
  });

  it('a seed gives the same values on every run', async () => {
    const a = await (await run(normal, backend))[0]!.toFloat64();
    const b = await (await run(normal, backend))[0]!.toFloat64();
    expect(Array.from(b)).toEqual(Array.from(a));
    const other = await (await run({ ...normal, attrs: { ...normal.attrs, seed: 4 } }, backend))[0]!.toFloat64();
    expect(Array.from(other)).not.toEqual(Array.from(a));
  });

  it('draws the asked-for distributions', async () => {
    const n = await (await run(normal, backend))[0]!.toFloat64();
    expect(mean(n)).toBeCloseTo(2, 1);
    expect(std(n)).toBeCloseTo(0.5, 1);
    const u = await (await run(uniformLike, backend))[0]!.toFloat64();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(mean(u)).toBeCloseTo(1, 1);
    const b = await (await run(bernoulli, backend))[0]!.toFloat64();
    expect(mean(b.filter((_, i) => i % 2 === 0))).toBeCloseTo(0.9, 1);
    expect(mean(b.filter((_, i) => i % 2 === 1))).toBeCloseTo(0.2, 1);
    const m = await (await run(multinomial, backend))[0]!.toFloat64();
    const freq = (row: number, k: number): number => m.subarray(row * 20000, (row + 1) * 20000).filter((v) => v === k).length / 20000;
    // softmax of [0, log 3, log 6] = [0.1, 0.3, 0.6]; of [0, 0, 0] = 1/3 each
    expect([0, 1, 2].map((k) => freq(0, k))).toEqual([expect.closeTo(0.1, 1), expect.closeTo(0.3, 1), expect.closeTo(0.6, 1)]);
    expect([0, 1, 2].map((k) => freq(1, k))).toEqual([expect.closeTo(1 / 3, 1), expect.closeTo(1 / 3, 1), expect.closeTo(1 / 3, 1)]);
  });
});
