/** Real third-party models and exporter-style fixtures for the quantize tests: front end, feeds, ORT. */
import { type Model, graphScopes, localizeInitializers, normalizeModel } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { CORPUS, type CorpusFeed, type CorpusModel, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import * as ort from 'onnxruntime-node';

export { CORPUS, corpusFeeds, type CorpusModel, type CorpusFeed };

/** What every entry point runs before a technique: normalize + localize subgraph weights. */
export async function frontEnd(model: Model): Promise<Model> {
  const m = (await normalizeModel(model)).model;
  localizeInitializers(m.graph);
  return m;
}

const cache = new Map<string, Model>();

/** A corpus model after the front end (read and normalized once per test file). */
export async function corpusModel(id: string): Promise<Model> {
  let m = cache.get(id);
  if (!m) {
    const c = CORPUS.find((x) => x.id === id);
    if (!c) throw new Error(`no corpus model '${id}'`);
    m = await frontEnd(readModel(corpusBytes(c)));
    cache.set(id, m);
  }
  return m;
}

/** Run a model in onnxruntime-node on corpus-style feeds; every output flattened to float64. */
export async function ortOutputs(model: Model, feeds: Record<string, CorpusFeed>): Promise<Float64Array[]> {
  const session = await ort.InferenceSession.create(writeModel(model));
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.type, v.data, v.dims);
  const out = await session.run(f);
  const res = session.outputNames.map((n) => Float64Array.from(out[n]!.data as Float32Array, Number));
  await session.release();
  return res;
}

/** Cosine similarity of two arrays (1 when both are all zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
}

/** Bytes of the initializers of every graph of the model. */
export function weightBytes(model: Model): number {
  let n = 0;
  const bits: Record<string, number> = { float32: 32, int32: 32, int64: 64, float16: 16, int4: 4, uint4: 4, float64: 64 };
  for (const s of graphScopes(model.graph)) {
    for (const t of s.graph.initializers.values()) n += Math.ceil((t.size * (bits[t.dtype] ?? 8)) / 8);
    for (const t of s.graph.rawInitializers.values()) n += t.rawData?.length ?? 0;
  }
  return n;
}

/** Op counts over every graph of the model. */
export function opCounts(model: Model): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of graphScopes(model.graph)) for (const n of s.graph.nodes) c[n.opType] = (c[n.opType] ?? 0) + 1;
  return c;
}
