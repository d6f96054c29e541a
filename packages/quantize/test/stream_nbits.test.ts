/**
 * Streaming int4: a model whose weights sit in an external file is quantized one weight at a
 * time through rewriteModelFile. The output must equal the in-memory `quantize-weights` pass byte
 * for byte (same tensors), run in onnxruntime-node, leave the input untouched, and keep peak
 * memory near the largest weight rather than the model size.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { getPass, runPass } from '@whittle/graph';
import { readModelFile, rewriteModelFile, UnsafePathError } from '@whittle/onnx/node';
import { writeSyntheticMlp } from '@whittle/testing/synthetic';
import { quantizeWeightsStreaming } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'whittle-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

async function run(path: string, x: Float32Array, k: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'basic' });
  const out = await s.run({ x: new ort.Tensor('float32', x, [x.length / k, k]) });
  await s.release();
  return out[s.outputNames[0]!]!.data as Float32Array;
}

describe('streaming weight-only int4 (MatMulNBits)', () => {
  it.each([
    { bits: 4, symmetric: true, floor: 0.99 },
    // 2-bit codes: four per byte, as the in-memory pass writes them (a 4-level grid is coarse)
    { bits: 2, symmetric: true, floor: 0.6 },
    { bits: 2, symmetric: false, floor: 0.6 },
  ])('$bits-bit (symmetric $symmetric) equals the in-memory pass byte for byte and runs in onnxruntime-node; the input is untouched', async ({ bits, symmetric, floor }) => {
    const name = `mlp${bits}${symmetric ? 's' : 'a'}`;
    const src = writeSyntheticMlp(dir, [96, 80, 64, 10], { seed: 3, name });
    const before = [sha(src.modelPath), sha(src.dataPath)];
    const out = join(dir, `${name}_q.onnx`);
    const r = await rewriteModelFile(src.modelPath, out, (m, io) => quantizeWeightsStreaming(m, io, { bits, symmetric, blockSize: 32, sliceElements: 200 }));
    expect(r.inputDataBytes).toBe(src.dataBytes);
    expect([sha(src.modelPath), sha(src.dataPath)]).toEqual(before);

    const streamed = await readModelFile(out);
    const reference = (await runPass(getPass('quantize-weights'), await readModelFile(src.modelPath), { bits, symmetric, blockSize: 32, format: 'matmulnbits', ops: ['MatMul'] }, {})).model;
    expect(streamed.graph.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => n.attributes.get('bits')?.value)).toEqual([bits, bits, bits]);
    expect(streamed.graph.nodes.map((n) => `${n.domain}:${n.opType}:${n.name}:${n.inputs.join(',')}`)).toEqual(reference.graph.nodes.map((n) => `${n.domain}:${n.opType}:${n.name}:${n.inputs.join(',')}`));
    expect([...streamed.graph.initializers.keys()].sort()).toEqual([...reference.graph.initializers.keys()].sort());
    for (const [name, t] of reference.graph.initializers) {
      const s = streamed.graph.initializers.get(name)!;
      expect(s.shape, name).toEqual(t.shape);
      expect(Buffer.from((s.dataSync() as Uint8Array).buffer).equals(Buffer.from((t.dataSync() as Uint8Array).buffer)), name).toBe(true);
    }

    const x = Float32Array.from({ length: 4 * 96 }, (_, i) => Math.sin(i));
    const [yf, yq] = [await run(src.modelPath, x, 96), await run(out, x, 96)];
    let dot = 0, nf = 0, nq = 0;
    for (let i = 0; i < yf.length; i++) [dot, nf, nq] = [dot + yf[i]! * yq[i]!, nf + yf[i]! ** 2, nq + yq[i]! ** 2];
    expect(dot / Math.sqrt(nf * nq)).toBeGreaterThan(floor);
    // codes (bits / 8 bytes a weight) + an fp32 scale per 32 weights + packed zero points, each tensor 64-byte aligned
    const expected = [[96, 80], [80, 64], [64, 10]].reduce((a, [K, N]) => a + N! * Math.ceil(K! / 32) * ((32 * bits) / 8 + 4) + N! * Math.ceil((Math.ceil(K! / 32) * bits) / 8), 0);
    expect(statSync(`${out}.data`).size).toBeGreaterThanOrEqual(expected);
    expect(statSync(`${out}.data`).size).toBeLessThan(expected + 9 * 64);
  });

  it('refuses to write over the input or its data file, leaving both intact', async () => {
    const src = writeSyntheticMlp(dir, [64, 32], { seed: 4, name: 'tiny' });
    const before = [sha(src.modelPath), sha(src.dataPath)];
    await expect(rewriteModelFile(src.modelPath, src.modelPath, (m, io) => quantizeWeightsStreaming(m, io))).rejects.toThrow(UnsafePathError);
    await expect(rewriteModelFile(src.modelPath, join(dir, 'o.onnx'), (m, io) => quantizeWeightsStreaming(m, io), { dataLocation: 'tiny.onnx.data' })).rejects.toThrow(UnsafePathError);
    expect([sha(src.modelPath), sha(src.dataPath)]).toEqual(before);
  });

  it('an output path that is a directory fails and leaves no orphan data file beside it', async () => {
    const src = writeSyntheticMlp(dir, [64, 32], { seed: 5, name: 'todir' });
    const target = join(dir, 'out_is_a_dir.onnx');
    mkdirSync(target);
    await expect(rewriteModelFile(src.modelPath, target, (m, io) => quantizeWeightsStreaming(m, io))).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.startsWith('out_is_a_dir'))).toEqual(['out_is_a_dir.onnx']);
  });

  it.each([1, 2])('peak memory follows the largest weight, not the model (child process, 4 x 64 MB weights, %i thread(s))', (threads) => {
    const r = spawnSync(process.execPath, ['--conditions=@whittle/source', '--import', 'tsx', join(here, 'fixtures', 'stream_peak.ts'), dir, String(threads)], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { peakRss: number; baseRss: number; largest: number; total: number };
    // what a load-everything quantizer would need at least: all weights in float32
    expect(m.total).toBeGreaterThanOrEqual(4 * m.largest);
    console.log(`streaming (${threads} thread(s)) peak RSS ${(m.peakRss / 2 ** 20).toFixed(0)} MB (before ${(m.baseRss / 2 ** 20).toFixed(0)} MB) for ${(m.total / 2 ** 20).toFixed(0)} MB of weights, largest ${(m.largest / 2 ** 20).toFixed(0)} MB`);
    expect(m.peakRss).toBeLessThan(m.largest + 300 * 2 ** 20);
  });
});
