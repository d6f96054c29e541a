/**
 * Streaming float16: unloaded float32 weights become float16 one at a time through
 * rewriteModelFile, the graph is what the in-memory `convert-float16` pass makes, and the output
 * runs in onnxruntime-node with the in-memory pass's logits. A weight beyond float16's range stays
 * float32 with its reader, as in memory.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
import { createOrtRunner, type OrtFeed, type OrtModelSource } from '@whittle/eval/node';
import { readModelFile, rewriteModelFile } from '@whittle/onnx/node';
import { float32BitsToFloat16, float32ToFloat16Bits } from '@whittle/tensor';
import { decoderFeeds, writeDecoderLmExternal } from '@whittle/testing/lm';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { convertFloat16Pass, convertFloat16Streaming } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-f16-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outputs(m: OrtModelSource, feeds: Record<string, OrtFeed>): Promise<Float32Array> {
  const r = await createOrtRunner(m);
  try {
    const o = await r.run(feeds);
    return o[r.outputNames[0]!]!.data as Float32Array;
  } finally {
    await r.release();
  }
}

describe('streaming float16', () => {
  it('float32BitsToFloat16 rounds as float32ToFloat16Bits: every exponent and sign, mantissas at each rounding point, random values', () => {
    const bits: number[] = [];
    const mants = [0, 1, 0x7fffff, 0x7ffffe, 0x400000];
    for (let k = 0; k < 23; k++) mants.push(1 << k, (1 << k) - 1, (1 << k) + 1, (3 << k) & 0x7fffff, ((1 << k) | 0x2000) & 0x7fffff);
    for (const sign of [0, 0x80000000]) for (let e = 0; e < 256; e++) for (const m of mants) bits.push((sign | (e << 23) | m) >>> 0);
    const rnd = Float32Array.from([65504, 65519.99, 65520, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, ...Array.from({ length: 4000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 16) - 9))]);
    const src = Uint32Array.from([...bits, ...new Uint32Array(rnd.buffer)]);
    const got = new Uint16Array(src.length);
    float32BitsToFloat16(src, got);
    const f = new Float32Array(src.buffer);
    const want = Array.from(f, (x) => float32ToFloat16Bits(x));
    const bad = [...got].flatMap((g, i) => (g === want[i] ? [] : [`${src[i]!.toString(16)}: ${g.toString(16)} != ${want[i]!.toString(16)}`]));
    expect(bad.slice(0, 5)).toEqual([]);
    expect(src.length).toBeGreaterThan(60_000);
  });

  it('a decoder: same graph and logits as the in-memory pass, half the weight bytes', async () => {
    const lm = writeDecoderLmExternal({ seed: 4, layers: 1, dModel: 32, heads: 4, vocab: 100, maxPositions: 16 }, join(dir, 'lm.onnx'));
    const out = join(dir, 'lm_f16.onnx');
    let res;
    const r = await rewriteModelFile(lm.modelPath, out, async (m, io) => void (res = await convertFloat16Streaming(m, io, { sliceElements: 100 })));
    expect(res!.keptFloat32).toEqual([]);
    expect(res!.bytesOut).toBe(res!.bytesIn / 2);
    expect(r.outputDataBytes).toBeLessThan(r.inputDataBytes / 2 + 64 * 40);
    const streamed = await readModelFile(out);
    const reference = (await runPass(convertFloat16Pass, await readModelFile(lm.modelPath))).model;
    const sig = (m: typeof reference): string[] => m.graph.nodes.map((n) => `${n.opType}:${n.inputs.join(',')}>${n.outputs.join(',')}`);
    expect(sig(streamed)).toEqual(sig(reference));
    for (const [name, t] of reference.graph.initializers) {
      const s = streamed.graph.initializers.get(name)!;
      expect(s.dtype, name).toBe(t.dtype);
      expect(Buffer.from((s.dataSync() as Uint16Array).buffer).equals(Buffer.from((t.dataSync() as Uint16Array).buffer)), name).toBe(true);
    }
    const feeds = decoderFeeds(lm.config, [[1, 99, 42, 7]]) as Record<string, OrtFeed>;
    expect([...(await outputs(out, feeds))]).toEqual([...(await outputs(reference, feeds))]);
  });

  it('a weight beyond float16 range stays float32 (its MatMul too); the rest is float16', async () => {
    const src = writeSyntheticMlp(dir, [8, 6, 4], { seed: 2, name: 'mlp' });
    const fd = openSync(src.dataPath, 'r+');
    writeSync(fd, new Uint8Array(Float32Array.of(1e5).buffer), 0, 4, 47 * 4); // W0[7, 5], in the fifth band of 10
    closeSync(fd);
    const out = join(dir, 'mlp_f16.onnx');
    let res;
    await rewriteModelFile(src.modelPath, out, async (m, io) => void (res = await convertFloat16Streaming(m, io, { sliceElements: 10 })));
    expect(res!.keptFloat32).toEqual(['W0']);
    const m = await readModelFile(out);
    expect(m.graph.initializers.get('W0')!.dtype).toBe('float32');
    expect(m.graph.initializers.get('W1')!.dtype).toBe('float16');
    const x = Float32Array.from({ length: 8 }, (_, i) => (i + 1) / 8);
    const feeds = { x: { data: x, dims: [1, 8] } } as Record<string, OrtFeed>;
    const [a, b] = [await outputs(src.modelPath, feeds), await outputs(out, feeds)];
    expect(a.every((v, i) => Math.abs(v - b[i]!) <= 2e-3 * Math.max(1, Math.abs(v)))).toBe(true);
    expect(b.every(Number.isFinite)).toBe(true);
  });
});
