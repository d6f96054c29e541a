/**
 * `whittle quantize stream` on a float16 decoder with external data (a `model_fp16.onnx` as
 * exporters write it: float16 weights, activations, inputs and outputs): int4 MatMulNBits and a
 * shared GatherBlockQuantized table with float16 scales, files ~3.7x smaller than the fp16 ones at
 * block 128, float16 logits in onnxruntime-node close to the fp16 model's, the input files
 * untouched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { readModelFile, writeModelFile } from '@whittle/onnx/node';
import { convertFloat16Pass } from '@whittle/quantize';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-cli-stream-f16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Float16 logits of the model at `path` (float32 feeds given as float16 where the input is), decoded. */
async function logits(path: string, feeds: Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>): Promise<{ type: string; values: Float32Array }> {
  const s = await ort.InferenceSession.create(path);
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = v.data instanceof BigInt64Array ? new ort.Tensor('int64', v.data, v.dims) : new ort.Tensor('float16', Uint16Array.from(v.data, float32ToFloat16Bits), v.dims);
    const y = (await s.run(f))['logits']!;
    return { type: y.type, values: Float32Array.from(y.data as Uint16Array, float16BitsToFloat32) };
  } finally {
    await s.release();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i]! * b[i]!, aa + a[i]! ** 2, bb + b[i]! ** 2];
  return ab / Math.sqrt(aa * bb);
}

describe('whittle quantize stream on a float16 model', () => {
  it('int4 with float16 scales: ~3.7x smaller than the fp16 data, float16 io kept, runs in onnxruntime-node close to the fp16 model; input unchanged', async () => {
    const lm = buildDecoderLm({ seed: 5, layers: 1, dModel: 256, heads: 4, vocab: 512, maxPositions: 16 });
    const half = (await runPass(convertFloat16Pass, lm.model, { keepIoTypes: false })).model;
    const src = join(dir, 'lm_fp16.onnx');
    await writeModelFile(half, src, { externalData: { location: 'lm_fp16.onnx.data', sizeThreshold: 1024 } });
    const before = [sha(src), sha(`${src}.data`)];
    const out = join(dir, 'lm_fp16_q4.onnx');

    const r = await whittleInProcess('quantize', 'stream', src, '-o', out, '--block-size', '128');
    expect(r.code, r.stderr).toBe(0);
    // 6 MatMul weights + the tied token table (the position table is not a MatMul weight: it stays float16)
    expect(r.stdout).toMatch(/^quantized 7 weights \(7 float16 weights quantized with float16 scales, float16 activations kept\)/);
    expect([sha(src), sha(`${src}.data`)]).toEqual(before);

    const m = await readModelFile(out);
    expect(m.graph.nodes.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(7);
    expect(m.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized')).toHaveLength(1);
    expect([...m.graph.initializers.values()].filter((t) => t.dtype === 'float32')).toEqual([]);
    expect(m.graph.initializers.get('transformer.wte.weight_scales')!.dtype).toBe('float16');
    expect([...m.graph.inputs, ...m.graph.outputs].map((v) => (v.type?.kind === 'tensor' ? v.type.elemType : '?'))).toEqual([...half.graph.inputs, ...half.graph.outputs].map((v) => (v.type?.kind === 'tensor' ? v.type.elemType : '?')));

    // per 128 weights: 64 bytes of codes, a 2-byte scale, half a byte of zero point (3.85x on the weights);
    // the position table, LayerNorms and biases stay float16, and the graph grows (3.68x measured)
    const [inBytes, outBytes] = [statSync(`${src}.data`).size + statSync(src).size, statSync(`${out}.data`).size + statSync(out).size];
    const ratio = inBytes / outBytes;
    console.log(`fp16 ${inBytes} bytes -> int4 ${outBytes} bytes (${ratio.toFixed(2)}x)`);
    expect(ratio).toBeGreaterThanOrEqual(3.5);
    expect(ratio).toBeLessThan(4);

    const feeds = decoderFeeds(lm.config, [[3, 200, 77, 9, 41, 500], [1, 2, 60, 33, 420, 7]]);
    const [a, b] = [await logits(src, feeds), await logits(out, feeds)];
    expect(b.type).toBe('float16');
    expect(b.values.every(Number.isFinite)).toBe(true);
    const cos = cosine(a.values, b.values);
    console.log(`logits cosine to the fp16 model ${cos.toFixed(5)}`);
    expect(cos).toBeGreaterThan(0.95);
  }, 60_000);

  it('--float16 on a model already in float16 changes nothing: exit 1, nothing written, input unchanged', async () => {
    const lm = buildDecoderLm({ seed: 6, layers: 1, dModel: 64, heads: 2, vocab: 128, maxPositions: 16 });
    const half = (await runPass(convertFloat16Pass, lm.model, { keepIoTypes: false })).model;
    const src = join(dir, 'lm16_again.onnx');
    await writeModelFile(half, src, { externalData: { location: 'lm16_again.onnx.data', sizeThreshold: 1024 } });
    const before = [sha(src), sha(`${src}.data`)];
    const out = join(dir, 'lm16_again_out.onnx');
    const r = await whittleInProcess('quantize', 'stream', '--float16', src, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--float16 changed nothing in '.*lm16_again\.onnx': no float32 weight or computation to convert/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.data`)).toBe(false);
    expect([sha(src), sha(`${src}.data`)]).toEqual(before);
  });
});
