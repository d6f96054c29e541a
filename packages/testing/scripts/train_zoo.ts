// Reproduce a zoo model: `pnpm --filter @whittle/testing zoo:train <lenet300100|lenet5|lenet5jitter>`.
// Trains with the seeded recipe, writes packages/testing/zoo/<recipe>.onnx and prints the
// onnxruntime-node test accuracy; the same recipe gives the same bytes.
import { join } from 'node:path';
import { readModel } from '@whittle/onnx';
import { writeModelFile } from '@whittle/onnx/node';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { ZOO_DIR, ZOO_NAMES, cacheName, mnistData, trainZooModel, type ZooName } from '../src/zoo.js';

const name = (process.argv[2] ?? 'lenet300100') as ZooName;
if (!ZOO_NAMES.includes(name)) throw new Error(`unknown zoo model '${name}' (${ZOO_NAMES.join(', ')})`);
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
const bytes = await trainZooModel(name, (_f, m) => {
  if (m.includes('loss')) console.log(`${secs()} s  ${m}`);
});
const path = join(ZOO_DIR, cacheName(name));
await writeModelFile(await readModel(bytes), path);
const data = await mnistData();
const r = await evaluateAccuracyOrt(bytes, data.test.images, data.test.labels, { sampleShape: [1, 28, 28] });
console.log(`${name}: onnxruntime-node test accuracy ${(r.accuracy * 100).toFixed(2)} %, ${bytes.length} bytes, ${secs()} s -> ${path}`);
