// The ≈26M-parameter decoder: `node --conditions=@whittle/source --import tsx scripts/lm25m.ts`.
// Generates it into the cache (lm25mModelPath) and checks it in onnxruntime-node: load time, a
// full-sequence call, and prefix + one-token calls with the past giving the same logits.
import { statSync } from 'node:fs';
import { type OrtFeed, createOrtRunner } from '@whittle/eval/node';
import { decoderFeeds, presentNames } from '../src/lm/feeds.js';
import { LM25M_CONFIG, LM25M_PARAMETERS, lm25mModelPath } from '../src/lm/large.js';

const c = LM25M_CONFIG;
let t = performance.now();
const lap = (): string => {
  const s = ((performance.now() - t) / 1000).toFixed(2);
  t = performance.now();
  return s;
};
const path = lm25mModelPath();
console.log(`${path}: ${statSync(path).size} bytes, ${LM25M_PARAMETERS} parameters (${lap()} s to get)`);
const runner = await createOrtRunner(path);
console.log(`onnxruntime-node session in ${lap()} s; inputs ${runner.inputNames.length}, outputs ${runner.outputNames.length}`);
const ids = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % c.vocab);
const full = await runner.run(decoderFeeds(c, [ids]) as Record<string, OrtFeed>);
console.log(`full call [1, ${ids.length}] in ${lap()} s: logits [${full['logits']!.dims.join(', ')}]`);
const prefix = await runner.run(decoderFeeds(c, [ids.slice(0, 20)]) as Record<string, OrtFeed>);
let past = Object.fromEntries(presentNames(c).map((n) => [n, prefix[n]!.data as Float32Array]));
let diff = 0;
for (let at = 20; at < ids.length; at++) {
  const step = await runner.run(decoderFeeds(c, [[ids[at]!]], past, at) as Record<string, OrtFeed>);
  const want = (full['logits']!.data as Float32Array).subarray(at * c.vocab, (at + 1) * c.vocab);
  (step['logits']!.data as Float32Array).forEach((v, i) => (diff = Math.max(diff, Math.abs(v - want[i]!))));
  past = Object.fromEntries(presentNames(c).map((n) => [n, step[n]!.data as Float32Array]));
}
console.log(`prefix 20 + 4 one-token calls with past: max |logit difference| to the full call ${diff.toExponential(2)} (${lap()} s)`);
await runner.release();
