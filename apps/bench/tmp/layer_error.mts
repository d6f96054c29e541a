import { type Model, collectActivations, runPass } from '@whittle/graph';
import { readModelFile } from '@whittle/onnx/node';
import { decoderFeeds, lmZooModel } from '@whittle/testing/lm';
import { type Tensor, tensor } from '@whittle/tensor';
import '@whittle/quantize';
import { findPrunableWeights } from '@whittle/prune';

const z = lmZooModel();
const tok = z.tokenizer();
const model = await readModelFile(z.path);
const train = tok.encode(z.trainText());
const calib: Record<string, Tensor>[] = [];
const len = 64, count = 32;
const step = Math.floor((train.length - len) / count);
for (let i = 0; i < count; i++) {
  const f = decoderFeeds(z.config, [train.slice(i * step, i * step + len)]);
  const feeds: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(f)) feeds[k] = v.data instanceof BigInt64Array ? tensor(v.data, v.dims, 'int64', { backend: 'cpu' }) : tensor(v.data, v.dims, 'float32', { backend: 'cpu' });
  calib.push(feeds);
}
async function* each<T>(xs: readonly T[]) { yield* xs; }
const weights = findPrunableWeights(model);
const gram = new Map<string, Float64Array>();
for (const w of weights) gram.set(w.input, new Float64Array(w.cols * w.cols));
await collectActivations(model, [{ names: [...gram.keys()], consume(values) {
  for (const [name, G] of gram) {
    const x = values.get(name)!; const K = Math.sqrt(G.length); const d = x.data as Float32Array; const rows = d.length / K;
    for (let r = 0; r < rows; r++) for (let i = 0; i < K; i++) { const a = d[r * K + i]!; if (!a) continue; for (let j = 0; j < K; j++) G[i * K + j]! += a * d[r * K + j]!; }
  }
} }], each(calib), { pass: 'diag', runtime: 'interpreter' } as never);
const W0 = new Map<string, Float32Array>();
for (const w of weights) W0.set(w.weight, Float32Array.from(await model.graph.initializers.get(w.weight)!.data() as Float32Array));
function err(m: Model) {
  const out: number[] = [];
  for (const w of weights) {
    const a = W0.get(w.weight)!; const b = m.graph.initializers.get(w.weight)!; 
    return b;
  }
  return out;
}
const variants: [string, string, Record<string, unknown>][] = [
  ['magnitude-layer', 'prune-unstructured', { sparsity: 0.5 }],
  ['magnitude-row', 'prune-unstructured', { sparsity: 0.5, scope: 'row' }],
  ['wanda-row', 'prune-unstructured', { sparsity: 0.5, method: 'wanda' }],
  ['sparsegpt', 'prune-sparsegpt', { sparsity: 0.5 }],
  ['mag-2:4', 'prune-nm', { n: 2, m: 4 }],
  ['wanda-2:4', 'prune-nm', { n: 2, m: 4, method: 'wanda' }],
  ['sparsegpt-2:4', 'prune-sparsegpt', { n: 2, m: 4 }],
];
const rows: Record<string, string[]> = {};
for (const [name, pass, o] of variants) {
  const m = (await runPass(pass, model, o, { calibration: each(calib), seed: 1, calibrationRuntime: 'interpreter' } as never)).model;
  const errs: string[] = [];
  let tot = 0, totBase = 0;
  for (const w of weights) {
    const a = W0.get(w.weight)!; const b = (await m.graph.initializers.get(w.weight)!.data()) as Float32Array;
    const K = w.cols, N = w.rows; const G = gram.get(w.input)!;
    // W is [K, N] (MatMul, layout col); error = sum_n d_n^T G d_n
    let e = 0, base = 0;
    const d = new Float64Array(K), v = new Float64Array(K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) { d[k] = a[k * N + n]! - b[k * N + n]!; v[k] = a[k * N + n]!; }
      for (let i = 0; i < K; i++) { let s = 0, t = 0; for (let j = 0; j < K; j++) { s += G[i * K + j]! * d[j]!; t += G[i * K + j]! * v[j]!; } e += d[i]! * s; base += v[i]! * t; }
    }
    tot += e; totBase += base;
    errs.push((e / base).toFixed(4));
  }
  rows[name] = errs;
  console.log(name.padEnd(16), 'total', (tot / totBase).toFixed(4), errs.join(' '));
}
console.log('layers', weights.map((w) => w.weight).join(' '));
