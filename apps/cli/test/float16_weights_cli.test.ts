/**
 * The command line on a third-party model as a float16 download holds it (PaddleOCR's text
 * recognizer converted by `quantize float16` with float16 inputs and outputs): `quantize weights
 * --format matmulnbits` quantizes its float16 weights and writes a float16 model onnxruntime runs,
 * ~3.7x smaller than the fp16 file, its character probabilities (as log-odds) close to the fp16 model's.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@whittle/tensor';
import { CORPUS, corpusFeeds, corpusPath } from '@whittle/testing/corpus';
import { whittleInProcess } from './in_process.js';
import { cosineSimilarity } from '@whittle/eval';

const dir = mkdtempSync(join(tmpdir(), 'whittle-fp16-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rec = CORPUS.find((m) => m.id === 'ocr-rec')!;

/** A float16 probability tensor as log-odds (as the technique matrix compares probabilities). */
function logOdds(t: ort.Tensor): Float32Array {
  return Float32Array.from(t.data as Uint16Array, (h) => {
    const p = Math.min(Math.max(float16BitsToFloat32(h), 1e-7), 1 - 1e-7);
    return Math.log(p / (1 - p));
  });
}

describe('quantize weights on a float16 model', () => {
  it('PaddleOCR recognizer in float16: MatMulNBits + float16 DequantizeLinear, 3.5x+ smaller than fp16, close to it', async () => {
    const half = join(dir, 'rec_fp16.onnx');
    const h = await whittleInProcess('quantize', 'float16', corpusPath(rec), '--no-keep-io-types', '-o', half);
    expect(h.code, h.stderr).toBe(0);
    const out = join(dir, 'rec_fp16_int4.onnx');
    const r = await whittleInProcess('quantize', 'weights', half, '--format', 'matmulnbits', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    // every weight of the fp16 model is quantized (none refused as float16), its ratio printed
    expect(r.stdout).toMatch(/47 weight readers quantized \(38 DequantizeLinear, 9 MatMulNBits\); 47 float16 weights quantized with float16 scales/);
    const printed = Number(/weights \d+ -> \d+ bytes \(([\d.]+)x\)/.exec(r.stdout)?.[1]);
    expect(printed).toBeGreaterThanOrEqual(3.5);
    expect(statSync(out).size).toBeLessThan(statSync(half).size / 3.4);
    const [a, b] = [await ort.InferenceSession.create(half), await ort.InferenceSession.create(out)];
    for (const seed of [1, 2]) {
      const x = corpusFeeds(rec, seed).x!;
      const feeds = { x: new ort.Tensor('float16', Uint16Array.from(x.data as Float32Array, float32ToFloat16Bits), x.dims) };
      const [ya, yb] = [Object.values(await a.run(feeds))[0]!, Object.values(await b.run(feeds))[0]!];
      expect(yb.type).toBe('float16');
      // measured 0.9939 and 0.9916 (the float32 model's int4 at opset 10, its Conv weights int8: 0.9986, 0.9993)
      expect(cosineSimilarity(logOdds(ya), logOdds(yb)), `seed ${seed}`).toBeGreaterThanOrEqual(0.98);
    }
  }, 60_000);
});
