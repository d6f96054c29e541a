// The Node consumer of the packed tarballs (run by ../run.mjs inside a fresh project outside the
// workspace): every published entry point imports; a pruning pass and an int4 quantization run on
// real model files and the results load and run in onnxruntime-node, close to the original.
// Prints one JSON line (the in-process MLP pruning, compared with the browser's by run.mjs).
import { readFileSync } from 'node:fs';
import { runRecipe } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import '@whittle/prune';
import '@whittle/quantize';
import { Rng } from '@whittle/tensor';
import * as ort from 'onnxruntime-node';
import { pruneMlp } from './prune_mlp.mjs';

// every export of every package resolves and loads under Node's `import` condition
for (const spec of ['@whittle/tensor', '@whittle/tensor/node', '@whittle/graph', '@whittle/onnx', '@whittle/onnx/node', '@whittle/prune', '@whittle/quantize', '@whittle/lowrank', '@whittle/distill', '@whittle/distill/node', '@whittle/eval', '@whittle/eval/node']) {
  const m = await import(spec);
  if (Object.keys(m).length === 0) throw new Error(`${spec} exports nothing`);
}

const [, , ...files] = process.argv;
async function run(bytes, feeds) {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(feeds);
  await s.release();
  return Object.values(out).map((t) => Float32Array.from(t.data));
}
function feedsFor(session, dims) {
  const rng = new Rng(5);
  const feeds = {};
  for (const name of session.inputNames) {
    const d = dims[name];
    const n = d.reduce((a, b) => a * b, 1);
    feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: n }, () => rng.normal() * 0.5), d);
  }
  return feeds;
}
// relative error of `b` against `a` over all outputs: max |a - b| / max |a|
function relErr(a, b) {
  let num = 0;
  let den = 0;
  a.forEach((x, i) => x.forEach((v, k) => { num = Math.max(num, Math.abs(v - b[i][k])); den = Math.max(den, Math.abs(v)); }));
  return num / (den || 1);
}

const results = [];
for (const arg of files) {
  const [file, dimsJson] = arg.split('=');
  const bytes = new Uint8Array(readFileSync(file));
  const dims = JSON.parse(dimsJson);
  const probe = await ort.InferenceSession.create(bytes);
  const feeds = feedsFor(probe, dims);
  await probe.release();
  const original = await run(bytes, feeds);
  for (const [label, step, limit] of [['prune 20 %', { pass: 'prune-unstructured', options: { sparsity: 0.2 } }, 0.35], ['int4', { pass: 'quantize-weights', options: { bits: 4 } }, 0.35]]) {
    const r = await runRecipe(readModel(bytes), { passes: [step] }, { seed: 1 });
    if (!r.outcome.changed) throw new Error(`${file} ${label}: nothing changed (${r.outcome.reason})`);
    const out = writeModel(r.model);
    const err = relErr(original, await run(out, feeds));
    results.push({ file: file.split('/').pop(), label, bytesBefore: bytes.length, bytesAfter: out.length, relErr: Number(err.toFixed(4)) });
    if (!(err <= limit)) throw new Error(`${file} ${label}: onnxruntime output differs from the original by ${err} (relative), limit ${limit}`);
  }
}
console.log(JSON.stringify({ models: results, mlp: await pruneMlp() }));
