/**
 * Whittle's interpreter against onnxruntime-node on real third-party models (the corpus of
 * @whittle/testing), on cpu and webgpu: every output within a
 * relative error (max |whittle - ort| / max |ort|) of 1e-4.
 */
import * as ort from 'onnxruntime-node';
import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { CORPUS, corpusBytes, corpusFeeds, type CorpusFeed } from '@whittle/testing/corpus';
import { type Tensor, tensor } from '@whittle/tensor';
import { readModel, writeModel } from '@whittle/onnx';
import type { Model } from '../src/ir/types.js';
import { runModel } from '../src/interpreter/run.js';
import '../src/interpreter/ops/index.js';

const RTOL = 1e-4;

/**
 * Values compared besides the graph outputs. The OCR detector ends in Sigmoid, and
 * onnxruntime's Sigmoid (MLAS) has an absolute error of up to ~1.2e-7 near 0 (it rounds to
 * multiples of 2^-24 there, e.g. 1.79e-7 for sigmoid(-16.6) = 6.17e-8); on pixels with
 * probabilities ~1e-6 that alone is a large relative error. The logits before it are compared
 * too, so a divergence in the network cannot hide behind that tolerance.
 */
const EXTRA: Record<string, string[]> = { 'ocr-det': ['p2o.Add.281'] };

interface Case {
  id: string;
  model: Model;
  /** The bytes onnxruntime loads (the original file). */
  bytes: Uint8Array;
  feeds: Record<string, CorpusFeed>;
}

function toTensor(f: CorpusFeed): Tensor {
  return tensor(Array.from(f.data as ArrayLike<number | bigint>, (v) => Number(v)), f.dims, f.type, { backend: 'cpu' });
}

function toOrt(f: CorpusFeed): ort.Tensor {
  return new ort.Tensor(f.type, f.data, f.dims);
}

/** The graph outputs (plus `extra` intermediate values) in onnxruntime-node, as float64. */
async function ortValues(c: Case, extra: readonly string[]): Promise<Map<string, Float64Array>> {
  let bytes = c.bytes;
  if (extra.length) {
    const m = readModel(c.bytes);
    for (const name of extra) m.graph.outputs.push({ name, type: { kind: 'tensor', elemType: 'float32', shape: [] } } as (typeof m.graph.outputs)[number]);
    bytes = writeModel(m);
  }
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(c.feeds)) feeds[k] = toOrt(v);
  const out = await session.run(feeds);
  await session.release();
  const result = new Map<string, Float64Array>();
  for (const [k, t] of Object.entries(out)) result.set(k, Float64Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)));
  return result;
}

/** max |got - want| / max |want| (max |got - want| when want is all zeros). */
function relativeError(got: Float64Array, want: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < want.length; k++) {
    num = Math.max(num, Math.abs(got[k]! - want[k]!));
    den = Math.max(den, Math.abs(want[k]!));
  }
  return den === 0 ? num : num / den;
}

const corpusCases: Case[] = CORPUS.map((m) => {
  const bytes = corpusBytes(m);
  return { id: m.id, model: readModel(bytes), bytes, feeds: corpusFeeds(m, 7) };
});

// the orientation classifier on small images (what 16x16 synthetic data gave it): its last
// MaxPool (2x2, stride 2) pools a map of height 1, whose window onnxruntime clips to the input
const cls = CORPUS.find((m) => m.id === 'ocr-cls')!;
corpusCases.push({ ...corpusCases.find((c) => c.id === 'ocr-cls')!, id: 'ocr-cls 16x16', feeds: corpusFeeds({ inputs: cls.inputs.map((i) => ({ ...i, dims: [2, 3, 16, 16] })) }, 7) });

/** Relative errors measured per model and backend, printed at the end (the numbers of the report). */
const measured: string[] = [];

async function check(c: Case, backend: 'cpu' | 'webgpu'): Promise<void> {
  const extra = EXTRA[c.id] ?? [];
  const want = await ortValues(c, extra);
  const feeds: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.feeds)) feeds[k] = toTensor(v);
  const got = await runModel(c.model, feeds, { backend, fetch: extra });
  const names = [...c.model.graph.outputs.map((o) => o.name), ...extra];
  const errors: string[] = [];
  for (const name of names) {
    const g = got.get(name);
    const w = want.get(name);
    expect(g, `${c.id}: whittle output ${name}`).toBeDefined();
    expect(w, `${c.id}: onnxruntime output ${name}`).toBeDefined();
    const gd = await g!.toFloat64();
    expect(gd.length, `${c.id}: size of ${name}`).toBe(w!.length);
    // the probability map after onnxruntime's Sigmoid: its absolute error (see EXTRA) as a floor
    const floor = c.id === 'ocr-det' && !extra.includes(name) ? 2.5e-7 : 0;
    const rel = relativeError(gd, w!);
    errors.push(`${name} ${rel.toExponential(2)}`);
    if (floor > 0) {
      const scale = w!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let k = 0; k < w!.length; k++) {
        if (Math.abs(gd[k]! - w![k]!) > floor + RTOL * scale) expect.fail(`${c.id} [${backend}] ${name}[${k}]: whittle ${gd[k]}, onnxruntime ${w![k]}`);
      }
    } else {
      expect(rel, `${c.id} [${backend}]: relative error of ${name}`).toBeLessThanOrEqual(RTOL);
    }
  }
  measured.push(`${c.id} [${backend}]: ${errors.join(', ')}`);
}

describeBackends('real models agree with onnxruntime-node', ({ backend }) => {
  for (const c of corpusCases) it(c.id, () => check(c, backend));
  it('measured', () => {
    console.log(measured.filter((m) => m.includes(`[${backend}]`)).join('\n'));
  });
});
