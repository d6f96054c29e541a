/**
 * SparseGPT and sequential Wanda with their calibration forwards in onnxruntime-node (as the CLI
 * injects it) against Whittle's interpreter, on a small GPT-style decoder: the same masks and,
 * within float rounding, the same weights; the fallback to the interpreter under 'auto'.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type ActivationRuntime, type Feeds, type Model, type PassContextInit, runPass } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import '../src/index.js';
import { values } from './helpers.js';

const onnxruntime = ortActivationRuntime(ort as unknown as OrtModuleLike);
const lm = buildDecoderLm({ seed: 3, layers: 2, dModel: 32, heads: 4, vocab: 64, maxPositions: 32 });
const weights = lm.model.graph.nodes.filter((n) => n.opType === 'MatMul' && lm.model.graph.initializers.has(n.inputs[1]!)).map((n) => n.inputs[1]!);

async function* calib(): AsyncGenerator<Feeds> {
  for (const s of [1, 2, 3]) {
    const rows = [0, 1].map((r) => Array.from({ length: 16 }, (_, t) => (s * 13 + r * 5 + t * 7) % 64));
    const out: Feeds = {};
    for (const [k, v] of Object.entries(decoderFeeds(lm.config, rows))) out[k] = v.data instanceof BigInt64Array ? tensor(v.data, v.dims, 'int64', { backend: 'cpu' }) : tensor(v.data, v.dims, 'float32', { backend: 'cpu' });
    yield out;
  }
}

/** onnxruntime, counting the models it is asked to open. */
function counting(): { runtime: ActivationRuntime; opened: number[] } {
  const opened: number[] = [];
  return { opened, runtime: { name: 'onnxruntime', open: (m, fetch, o) => (opened.push(m.graph.nodes.length), onnxruntime.open(m, fetch, o)) } };
}

type Ctx = Omit<PassContextInit, 'calibration'>;
const run = (pass: string, options: Record<string, unknown>, ctx: Ctx): Promise<Model> => runPass(pass, lm.model, options, { calibration: calib(), ...ctx }).then((r) => r.model);

/** Same zeros; the weights within `tol` of the largest magnitude of each tensor. */
async function expectSame(a: Model, b: Model, tol: number): Promise<void> {
  for (const w of weights) {
    const [va, vb] = [await values(a, w), await values(b, w)];
    const scale = va.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    let zeros = 0;
    for (let i = 0; i < va.length; i++) {
      expect(vb[i] === 0, `${w}[${i}] pruned in one run only`).toBe(va[i] === 0);
      zeros += va[i] === 0 ? 1 : 0;
      expect(Math.abs(va[i]! - vb[i]!), `${w}[${i}]`).toBeLessThanOrEqual(tol * scale);
    }
    expect(zeros, w).toBeGreaterThan(0);
  }
}

describe('sequential pruning with the forwards in onnxruntime', () => {
  for (const [label, pass, options, tol] of [
    ['SparseGPT 50 % (sequential)', 'prune-sparsegpt', { sparsity: 0.5, blockSize: 16 }, 1e-4],
    ['SparseGPT 2:4 (sequential)', 'prune-sparsegpt', { n: 2, m: 4 }, 1e-4],
    ['SparseGPT 50 % (one-shot)', 'prune-sparsegpt', { sparsity: 0.5, sequential: false }, 1e-4],
    ['sequential Wanda 50 %', 'prune-unstructured', { sparsity: 0.5, method: 'wanda', sequential: true }, 0],
    ['sequential Wanda 2:4', 'prune-nm', { n: 2, m: 4, method: 'wanda', sequential: true }, 0],
  ] as const) {
    it(`${label}: the same masks and weights as with the interpreter`, async () => {
      const { runtime, opened } = counting();
      const a = await run(pass, options, { calibrationRuntime: 'interpreter' });
      const b = await run(pass, options, { activationRuntime: runtime });
      // sequential: a model per forward segment ending at a weight's input; one-shot: the whole model once
      if ('sequential' in options && !options.sequential) expect(opened).toEqual([lm.model.graph.nodes.length]);
      else expect(opened.length).toBeGreaterThan(1);
      await expectSame(a, b, tol);
    });
  }

  it("a runtime that cannot load a segment: 'auto' warns and prunes as the interpreter does; a forced runtime fails", async () => {
    const failing: ActivationRuntime = { name: 'broken', open: () => Promise.reject(new Error('cannot load')) };
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined, debug: () => undefined };
    for (const [pass, options] of [['prune-sparsegpt', { sparsity: 0.5 }], ['prune-unstructured', { sparsity: 0.5, method: 'wanda', sequential: true }]] as const) {
      warnings.length = 0;
      const a = await run(pass, options, { calibrationRuntime: 'interpreter' });
      const b = await run(pass, options, { activationRuntime: failing, logger });
      await expectSame(a, b, 0);
      expect(warnings.length, pass).toBeGreaterThan(0);
      expect(warnings[0]).toMatch(new RegExp(`^${pass}: broken could not load a forward segment \\(cannot load\\)`));
      await expect(run(pass, options, { activationRuntime: failing, calibrationRuntime: 'onnxruntime' })).rejects.toThrow(/cannot load/);
    }
  });
});
