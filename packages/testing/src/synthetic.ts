/**
 * Synthetic models with external data, written without ever holding the weights in memory: an
 * MLP x → MatMul W₀ → Relu → … → MatMul Wₗ with seeded uniform weights (Kaiming scale), for
 * streaming tests and the 2.5 GB streaming benchmark.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type Model } from '@whittle/graph';
import { encodeModel } from '@whittle/onnx';

export interface SyntheticMlp {
  modelPath: string;
  dataPath: string;
  /** Bytes of weights in the data file. */
  dataBytes: number;
  /** Largest single weight, in bytes. */
  largestTensor: number;
}

/** Two interleaved 32-bit xorshifts (Marsaglia): floats in [-1, 1), fast enough for gigabytes. */
function uniformStream(seed: number): (out: Float32Array, scale: number) => void {
  let a = (Math.imul(seed + 1, 0x9e3779b1) | 1) >>> 0;
  let b = (Math.imul(seed + 7, 0x85ebca6b) | 1) >>> 0;
  return (out, scale) => {
    for (let i = 0; i < out.length; i++) {
      a ^= a << 13; a ^= a >>> 17; a ^= a << 5;
      b ^= b << 17; b ^= b >>> 15; b ^= b << 26;
      out[i] = (((a ^ b) >>> 0) / 4294967296 * 2 - 1) * scale;
    }
  };
}

/**
 * Write `dir/name.onnx` and `dir/name.onnx.data`: MatMul layers of widths `dims` (W_i is
 * [dims[i], dims[i+1]]), ReLU between them, input `x` [batch, dims[0]], output `y`.
 */
export function writeSyntheticMlp(dir: string, dims: readonly number[], opts: { seed?: number; name?: string } = {}): SyntheticMlp {
  const name = opts.name ?? 'synthetic';
  const modelPath = join(dir, `${name}.onnx`);
  const location = `${name}.onnx.data`;
  const dataPath = join(dir, location);
  const b = new GraphBuilder(name);
  let x = b.input('x', 'float32', ['batch', dims[0]!]);
  const refs: [string, number, number, number][] = [];
  const fd = openSync(dataPath, 'w');
  const rand = uniformStream(opts.seed ?? 1);
  const chunk = new Float32Array(1 << 22);
  let pos = 0;
  let largest = 0;
  try {
    for (let i = 0; i + 1 < dims.length; i++) {
      const [K, N] = [dims[i]!, dims[i + 1]!];
      const w = `W${i}`;
      refs.push([w, K, N, pos]);
      const scale = Math.sqrt(3 / K);
      for (let left = K * N; left > 0; ) {
        const n = Math.min(left, chunk.length);
        const view = chunk.subarray(0, n);
        rand(view, scale);
        const bytes = new Uint8Array(view.buffer, 0, n * 4);
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, pos + done);
        pos += bytes.length;
        left -= n;
      }
      largest = Math.max(largest, K * N * 4);
      x = b.node('MatMul', [x, w], {}, { name: `matmul${i}` });
      if (i + 2 < dims.length) x = b.node('Relu', [x]);
    }
  } finally {
    closeSync(fd);
  }
  b.output(x, 'float32', ['batch', dims[dims.length - 1]!]);
  const model: Model = b.model([{ domain: '', version: 21 }]);
  for (const [w, K, N, offset] of refs) model.graph.rawInitializers.set(w, { dataType: 'float32', dims: [K, N], external: { location, offset, length: K * N * 4 } });
  writeFileSync(modelPath, encodeModel(model, { keepExternalRefs: true }).model);
  return { modelPath, dataPath, dataBytes: pos, largestTensor: largest };
}
