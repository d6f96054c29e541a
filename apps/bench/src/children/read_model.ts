/**
 * Child of the `quantize` suite: read <model> once in this fresh process — with Whittle's
 * readModelFile, a plain read of its bytes, or onnxruntime-node session creation — and print the
 * seconds as JSON. A command reads its model once, in a process whose memory is all new.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { readModelFile } from '@whittle/onnx/node';

const [reader, path] = process.argv.slice(2) as ['whittle' | 'plain' | 'ort', string];
const t0 = performance.now();
if (reader === 'whittle') {
  await readModelFile(path);
} else if (reader === 'plain') {
  const size = statSync(path).size;
  const out = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  for (let done = 0; done < size;) done += readSync(fd, out, done, Math.min(size - done, 1 << 26), done);
  closeSync(fd);
} else {
  await (await ort.InferenceSession.create(path, { intraOpNumThreads: 1 })).release();
}
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 }));
