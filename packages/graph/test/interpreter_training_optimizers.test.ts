import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { runModel } from '../src/interpreter/run.js';
import '../src/interpreter/ops/index.js';
import { cpu, oneNode, type OneNode } from './interpreter_harness.js';

/**
 * The ai.onnx.preview.training optimizer steps on the forms the node tests leave out (step 0,
 * Adam's norm_coefficient_post, Adagrad's decay), against the operator definitions' formulas
 * evaluated per element in float64.
 */
const D = 'ai.onnx.preview.training';
const x = [0.5, -1.25, 2];
const g = [0.1, 0.4, -0.3];
const s1 = [0.2, 0, 0.05];
const s2 = [0.01, 0.3, 0.2];

async function run(spec: OneNode, backend: 'cpu' | 'webgpu'): Promise<number[][]> {
  const model = oneNode(spec);
  const out = await runModel(model, spec.feeds, { backend });
  return Promise.all(model.graph.outputs.map(async (o) => Array.from(await out.get(o.name)!.toFloat64())));
}
const feeds = (t: number, ...rest: number[][]): OneNode['feeds'] => ({
  r: cpu([0.1], []), t: cpu([t], [], 'int64'), ...Object.fromEntries(rest.map((v, i) => [`v${i}`, cpu(v, [v.length])])),
});
const close = (got: number[][], want: number[][]): void => got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 5)));

describeBackends('training optimizer steps', ({ backend }) => {
  it('Adam at step 0 with norm_coefficient_post', async () => {
    const [alpha, beta, eps, nc, post] = [0.9, 0.99, 1e-3, 0.01, 0.1];
    const spec: OneNode = { op: 'Adam', domain: D, feeds: feeds(0, x, g, s1, s2), inputs: ['r', 't', 'v0', 'v1', 'v2', 'v3'], attrs: { alpha, beta, epsilon: eps, norm_coefficient: nc, norm_coefficient_post: post }, floatAttrs: ['alpha', 'beta', 'epsilon', 'norm_coefficient', 'norm_coefficient_post'], outputs: ['float32', 'float32', 'float32'] };
    const gr = x.map((xi, i) => nc * xi + g[i]!);
    const v = gr.map((gi, i) => alpha * s1[i]! + (1 - alpha) * gi);
    const h = gr.map((gi, i) => beta * s2[i]! + (1 - beta) * gi * gi);
    const xn = x.map((xi, i) => (1 - post) * (xi - 0.1 * (v[i]! / (Math.sqrt(h[i]!) + eps))));
    close(await run(spec, backend), [xn, v, h]);
  });

  it('Adagrad with decay at step 3', async () => {
    const [decay, eps] = [0.5, 1e-6];
    const spec: OneNode = { op: 'Adagrad', domain: D, feeds: feeds(3, x, g, s2), inputs: ['r', 't', 'v0', 'v1', 'v2'], attrs: { decay_factor: decay, epsilon: eps }, floatAttrs: ['decay_factor', 'epsilon'], outputs: ['float32', 'float32'] };
    const rate = 0.1 / (1 + 3 * decay);
    const h = g.map((gi, i) => s2[i]! + gi * gi);
    const xn = x.map((xi, i) => xi - (rate * g[i]!) / (Math.sqrt(h[i]!) + eps));
    close(await run(spec, backend), [xn, h]);
  });

  it('Nesterov momentum at step 0 takes the whole gradient', async () => {
    const alpha = 0.9;
    const spec: OneNode = { op: 'Momentum', domain: D, feeds: feeds(0, x, g, s1), inputs: ['r', 't', 'v0', 'v1', 'v2'], attrs: { alpha, beta: 0.1, mode: 'nesterov', norm_coefficient: 0 }, floatAttrs: ['alpha', 'beta', 'norm_coefficient'], outputs: ['float32', 'float32'] };
    const v = g.map((gi, i) => alpha * s1[i]! + gi);
    const xn = x.map((xi, i) => xi - 0.1 * (g[i]! + alpha * v[i]!));
    close(await run(spec, backend), [xn, v]);
  });
});
