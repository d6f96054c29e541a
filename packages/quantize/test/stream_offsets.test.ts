/**
 * Streaming passes on external data beyond 2^31 bytes (int32 offsets would wrap): a sparse 3 GB
 * data file whose weight and bias sit past 3,000,000,000 bytes — cheap, the file has no blocks but
 * the tensors. Int4 and float16 rewrites read them there, the untouched bias is copied, and the
 * outputs agree with the original in onnxruntime-node (which reads the same offsets).
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '@whittle/graph';
import { createOrtRunner } from '@whittle/eval/node';
import { encodeModel, readModel } from '@whittle/onnx';
import { float16BitsToFloat32 } from '@whittle/tensor';
import { readModelFile, rewriteModelFile } from '@whittle/onnx/node';
import { convertFloat16Streaming, quantizeWeightsStreaming } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-offsets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const K = 64;
const N = 32;
const AT = 3_000_000_000;

function sparseModel(): string {
  const w = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.7) * 0.1);
  const bias = Float32Array.from({ length: N }, (_, i) => i / N);
  const fd = openSync(join(dir, 'big.onnx.data'), 'w');
  ftruncateSync(fd, AT + w.byteLength + 64 + bias.byteLength);
  writeSync(fd, new Uint8Array(w.buffer), 0, w.byteLength, AT);
  writeSync(fd, new Uint8Array(bias.buffer), 0, bias.byteLength, AT + w.byteLength + 64);
  closeSync(fd);
  const b = new GraphBuilder('big');
  b.input('x', 'float32', ['batch', K]);
  b.output(b.node('Add', [b.node('MatMul', ['x', 'W']), 'B']), 'float32', ['batch', N]);
  const m = b.model([{ domain: '', version: 21 }]);
  m.graph.rawInitializers.set('W', { dataType: 'float32', dims: [K, N], external: { location: 'big.onnx.data', offset: AT, length: w.byteLength } });
  m.graph.rawInitializers.set('B', { dataType: 'float32', dims: [N], external: { location: 'big.onnx.data', offset: AT + w.byteLength + 64, length: bias.byteLength } });
  const path = join(dir, 'big.onnx');
  writeFileSync(path, encodeModel(m, { keepExternalRefs: true }).model);
  return path;
}

async function y(path: string): Promise<Float32Array> {
  const r = await createOrtRunner(path);
  try {
    return (await r.run({ x: { data: Float32Array.from({ length: 2 * K }, (_, i) => Math.cos(i)), dims: [2, K] } }))[r.outputNames[0]!]!.data as Float32Array;
  } finally {
    await r.release();
  }
}

describe('streaming passes past 2^31 bytes of external data', () => {
  const src = sparseModel();

  it('the external reference keeps its offset through encode and decode', () => {
    const m = readModel(encodeModel(readModel(new Uint8Array(readFileSync(src)), { deferExternal: true }), { keepExternalRefs: true }).model, { deferExternal: true });
    expect(m.graph.rawInitializers.get('W')!.external).toEqual({ location: 'big.onnx.data', offset: AT, length: K * N * 4 });
  });

  it('int4 and float16 read the weight there, copy the bias, and agree with the original in onnxruntime-node', async () => {
    const ref = await y(src);
    for (const [name, transform] of [
      ['q4', (m, io) => quantizeWeightsStreaming(m, io)],
      ['f16', (m, io) => convertFloat16Streaming(m, io)],
    ] as const satisfies readonly (readonly [string, Parameters<typeof rewriteModelFile>[2]])[]) {
      const out = join(dir, `big_${name}.onnx`);
      const r = await rewriteModelFile(src, out, transform);
      expect(r.inputDataBytes).toBe((K * N + N) * 4);
      expect(r.outputDataBytes).toBeLessThan(K * N * 4);
      const bias = (await readModelFile(out)).graph.initializers.get('B')!;
      const last = Number((await bias.data())[N - 1]);
      expect(bias.dtype === 'float16' ? float16BitsToFloat32(last) : last).toBeCloseTo((N - 1) / N, 3);
      const got = await y(out);
      const err = got.reduce((d, v, i) => Math.max(d, Math.abs(v - ref[i]!)), 0);
      expect(err, name).toBeLessThan(name === 'f16' ? 2e-3 : 0.05);
    }
  });
});
