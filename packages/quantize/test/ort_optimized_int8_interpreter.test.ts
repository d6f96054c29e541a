/**
 * The interpreter on int8 models as onnxruntime's CPU 'extended' optimizer rewrites them (made at
 * test time): dynamic int8 BERT becomes DynamicQuantizeMatMul / MatMulIntegerToFloat, static QDQ
 * CNNs become onnxruntime's QOperator graph (QLinearConv, QLinearAdd, QLinearGlobalAveragePool,
 * QGemm, …). The interpreter runs each optimized file and gives onnxruntime's outputs — what the
 * calibrating and training passes and browser evaluation need to work on such models.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { type Model, normalizeModel, runModel, runPass } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import '../src/index.js';
import { imageInput, resnetCnn } from './models.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-ort-int8-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Feeds = Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>;

/** The graph onnxruntime-node's CPU 'extended' optimizer makes of `model`. */
async function ortOptimized(model: Model, name: string): Promise<Model> {
  const out = join(dir, `${name}_opt.onnx`);
  const s = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: out, executionProviders: ['cpu'] });
  await s.release();
  return readModel(new Uint8Array(readFileSync(out)));
}

/** First output of `model` in onnxruntime (no further optimization) and in the interpreter. */
async function both(model: Model, feeds: Feeds): Promise<[Float32Array, Float32Array]> {
  const s = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: 'disabled', executionProviders: ['cpu'] });
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.data instanceof BigInt64Array ? 'int64' : 'float32', v.data, v.dims);
  const want = (await s.run(f))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  const ours = await runModel(model, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, tensor(v.data, v.dims, v.data instanceof BigInt64Array ? 'int64' : 'float32', { backend: 'cpu' })])), { backend: 'cpu' });
  return [want, (await ours.get(model.graph.outputs[0]!.name)!.data()) as Float32Array];
}

const opsOf = (m: Model): Set<string> => new Set(m.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType)));

function stats(a: Float32Array, b: Float32Array): { worst: number; scale: number; cosine: number } {
  let worst = 0, scale = 0, d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) {
    [worst, scale] = [Math.max(worst, Math.abs(a[i]! - b[i]!)), Math.max(scale, Math.abs(a[i]!))];
    [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  }
  return { worst, scale, cosine: d / Math.sqrt(x * y) };
}

it('dynamic int8 BERT, onnxruntime-optimized (DynamicQuantizeMatMul, MatMulIntegerToFloat): interpreter equals onnxruntime', async () => {
  const float = (await normalizeModel(torchTransformerEncoder({ layers: 2, dModel: 64, heads: 4, ffn: 128, vocab: 300, maxPositions: 16 }))).model;
  const q = (await runPass('quantize-dynamic', float, {})).model;
  const opt = await ortOptimized(q, 'bert_dynamic');
  expect([...opsOf(opt)]).toEqual(expect.arrayContaining(['com.microsoft:DynamicQuantizeMatMul']));
  const rng = new Rng(3);
  const [want, got] = await both(opt, { input_ids: { data: BigInt64Array.from({ length: 4 * 16 }, () => BigInt(rng.int(300))), dims: [4, 16] } });
  const s = stats(want, got);
  console.log(`dynamic int8 BERT (onnxruntime-optimized): interpreter vs onnxruntime largest difference ${s.worst.toExponential(2)} of ${s.scale.toFixed(2)}, cosine ${s.cosine.toFixed(7)}`);
  // measured 1.2e-6 of 3.7 (float summation order); activations are quantized on the fly, so a
  // last-bit difference upstream could move a code — none does here
  expect(s.worst / s.scale).toBeLessThan(1e-5);
}, 120_000);

it('static QDQ CNN, onnxruntime-optimized into QOperator ops: interpreter equals onnxruntime', async () => {
  const float = resnetCnn();
  const rng = new Rng(5);
  const calibration = (async function* () {
    for (let i = 0; i < 4; i++) yield { x: tensor(Float32Array.from({ length: 2 * 3 * 256 }, () => rng.normal()), [2, 3, 16, 16], 'float32', { backend: 'cpu' }) };
  })();
  const q = (await runPass('quantize-static', (await normalizeModel(float)).model, { reduceRange: true }, { calibration })).model;
  const opt = await ortOptimized(q, 'cnn_static');
  const ops = opsOf(opt);
  expect([...ops]).toEqual(expect.arrayContaining(['QLinearConv', 'com.microsoft:QLinearAdd', 'com.microsoft:QLinearGlobalAveragePool']));
  const [want, got] = await both(opt, { x: imageInput(4, 7) });
  const s = stats(want, got);
  console.log(`static QDQ CNN (onnxruntime-optimized: ${[...ops].sort().join(', ')}): interpreter vs onnxruntime largest difference ${s.worst.toExponential(2)} of ${s.scale.toFixed(2)}, cosine ${s.cosine.toFixed(7)}`);
  // measured: equal (every QOperator op rounds as onnxruntime's kernel); a one-code flip would be ~1e-2
  expect(s.worst / s.scale).toBeLessThan(1e-3);
}, 120_000);
