/**
 * `whittle quantize stream` on a Llama-style decoder whose token table is not tied with the LM head
 * (external data): the table becomes GatherBlockQuantized alongside the MatMulNBits weights, the
 * printed counts say so, the output runs in onnxruntime-node with logits close to the float
 * model's and is smaller than with `--untied-embedding float`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrtFeed } from '@whittle/eval/node';
import { readModelFile, writeModelFile } from '@whittle/onnx/node';
import { genaiBuilderDecoder, genaiBuilderFeeds } from '@whittle/testing/exporters';
import { whittleInProcess } from './in_process.js';
import { ortLogits } from './fixtures/ort_logits.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-cli-stream-untied-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const size = (p: string): number => statSync(p).size + statSync(`${p}.data`).size;

describe('whittle quantize stream on an untied token table', () => {
  it('writes GatherBlockQuantized for the table, says so, runs close to the float model and is smaller than keeping it float', async () => {
    const { model, config } = genaiBuilderDecoder({ seed: 4, layers: 1, hidden: 64, heads: 4, kvHeads: 2, vocab: 512, tiedEmbeddings: false });
    const src = join(dir, 'llama.onnx');
    await writeModelFile(model, src, { externalData: { location: 'llama.onnx.data', sizeThreshold: 1024 } });
    const out = join(dir, 'llama_q4.onnx');
    const r = await whittleInProcess('quantize', 'stream', src, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    // q, k, v, o, gate, up, down, lm_head + the token table
    expect(r.stdout).toMatch(/^quantized 9 weights; 8 as MatMulNBits, 1 token table as GatherBlockQuantized:/);
    const m = await readModelFile(out);
    expect(m.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized').map((n) => n.inputs[0])).toEqual(['model.embed_tokens.weight_q4']);
    expect(m.graph.initializers.has('model.embed_tokens.weight')).toBe(false);

    const kept = join(dir, 'llama_q4_float_table.onnx');
    const k = await whittleInProcess('quantize', 'stream', src, '-o', kept, '--untied-embedding', 'float');
    expect(k.code, k.stderr).toBe(0);
    expect(k.stdout).toMatch(/^quantized 8 weights:/);
    expect(size(out)).toBeLessThan(size(kept));

    const feeds = Object.fromEntries(Object.entries(genaiBuilderFeeds(config, [[3, 500, 77, 9, 41]])).map(([name, t]) => [name, { data: t.dataSync() as Float32Array | BigInt64Array, dims: [...t.shape] }])) as Record<string, OrtFeed>;
    const [a, b] = [await ortLogits(src, feeds), await ortLogits(out, feeds)];
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i]! * b[i]!, aa + a[i]! ** 2, bb + b[i]! ** 2];
    expect(ab / Math.sqrt(aa * bb)).toBeGreaterThan(0.95);
  });

  it('--bits 2 writes 2-bit MatMulNBits codes, keeps the table 4-bit and says so; smaller than 4-bit, runs in onnxruntime-node; WebGPU-refused table zero points are warned of', async () => {
    const { model, config } = genaiBuilderDecoder({ seed: 5, layers: 1, hidden: 64, heads: 4, kvHeads: 2, vocab: 512, tiedEmbeddings: false });
    const src = join(dir, 'llama2.onnx');
    await writeModelFile(model, src, { externalData: { location: 'llama2.onnx.data', sizeThreshold: 1024 } });
    const [q4, q2] = [join(dir, 'llama2_q4.onnx'), join(dir, 'llama2_q2.onnx')];
    for (const [out, bits] of [[q4, '4'], [q2, '2']] as const) {
      const r = await whittleInProcess('quantize', 'stream', src, '-o', out, '--bits', bits, '--asymmetric');
      expect(r.code, r.stderr).toBe(0);
      if (bits === '2') expect(r.stdout).toMatch(/^quantized 9 weights; 8 as MatMulNBits, 1 token table as GatherBlockQuantized; 1 token table stored in 4-bit containers \(GatherBlockQuantized has no 2-bit codes\):/);
      // two blocks of 32 per table row: zero points WebGPU reads
      expect(r.stdout).not.toMatch(/warning/);
    }
    // one block of 64 per row, asymmetric: an odd count of 4-bit zero points, which onnxruntime-web's WebGPU provider refuses
    const odd = await whittleInProcess('quantize', 'stream', src, '-o', join(dir, 'llama2_q4_b64.onnx'), '--block-size', '64', '--asymmetric');
    expect(odd.code, odd.stderr).toBe(0);
    expect(odd.stdout).toMatch(/\nwarning: 1 GatherBlockQuantized node\(s\) store asymmetric zero points onnxruntime-web's WebGPU provider cannot read/);
    const m = await readModelFile(q2);
    expect(m.graph.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => n.attributes.get('bits')?.value)).toEqual(Array(8).fill(2));
    expect(m.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized').map((n) => n.attributes.get('bits')?.value ?? 4)).toEqual([4]);
    // MatMulNBits weights hold about half the 4-bit bytes (scales and the 4-bit table unchanged)
    expect(size(q2)).toBeLessThan(0.8 * size(q4));

    const feeds = Object.fromEntries(Object.entries(genaiBuilderFeeds(config, [[3, 500, 77, 9, 41]])).map(([name, t]) => [name, { data: t.dataSync() as Float32Array | BigInt64Array, dims: [...t.shape] }])) as Record<string, OrtFeed>;
    const [a, b] = [await ortLogits(src, feeds), await ortLogits(q2, feeds)];
    expect(b.every(Number.isFinite)).toBe(true);
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i]! * b[i]!, aa + a[i]! ** 2, bb + b[i]! ** 2];
    // a 4-level grid on random weights: correlated with the float logits, far from equal
    expect(ab / Math.sqrt(aa * bb)).toBeGreaterThan(0.5);
  });
});
