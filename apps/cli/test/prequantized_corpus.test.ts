/**
 * The command line on a third-party transformer its publisher already quantized (Moonshine tiny's
 * encoder and merged decoder from @moonshine-ai/moonshine-js, dynamic int8 as Transformers.js
 * ships them): what it cannot compress it refuses saying why (every pruning pass alike, and
 * without advising a normalize that would not help), calibration on synthetic data too short for
 * the model's strided convolutions says how to size the dims, --requantize-int8 turns the int8
 * MatMuls into 4-bit MatMulNBits, and float16 keeps the int8
 * accumulators float32 and stays as close to the float32 decoder as float16-rounded inputs do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { PREQUANTIZED_CORPUS, corpusFeeds, corpusPath } from '@whittle/testing/corpus';
import { whittleInProcess } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'whittle-source.mjs');
const dir = mkdtempSync(join(tmpdir(), 'whittle-prequantized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function whittle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: dir }, timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const encoderModel = PREQUANTIZED_CORPUS.find((m) => m.id === 'moonshine-encoder')!;
const decoderModel = PREQUANTIZED_CORPUS.find((m) => m.id === 'moonshine-decoder')!;
const encoder = corpusPath(encoderModel);
const decoder = corpusPath(decoderModel);

describe('an already-quantized transformer (Moonshine tiny encoder)', () => {
  it('int4 weight-only is refused, naming the 36 MatMulInteger layers it does not quantize again', () => {
    const out = join(dir, 'int4.onnx');
    const r = whittle('quantize', 'weights', encoder, '--bits', '4', '--format', 'matmulnbits', '-o', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/nothing compressed: .*the model is already quantized: 36 layer\(s\) hold integer weights \(36 MatMulInteger\)/);
    expect(r.stderr).toContain('36 int8 MatMul layer(s) can be re-quantized from their int8 weights with requantizeInt8 (--requantize-int8), rounded twice');
    expect(existsSync(out)).toBe(false);
  });

  it('--requantize-int8: 4-bit MatMulNBits from the int8 weights, smaller, the int8 convolutions kept 8-bit, outputs close to the int8 model', async () => {
    const out = join(dir, 'requantized.onnx');
    const r = whittle('quantize', 'weights', encoder, '--bits', '4', '--format', 'matmulnbits', '--block-size', '32', '--requantize-int8', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('3 Conv weight(s) kept 8-bit per channel: opset 14 stores sub-8-bit codes in 8-bit containers');
    expect(r.stdout).toMatch(/36 int8 weight\(s\) \(36 MatMulInteger; 36 layer\(s\)\) re-quantized to 4-bit from their dequantized values, rounded twice: RMS error [\d.]+-[\d.]+ int8 steps/);
    // 7.94 MB → 5.76 MB measured
    expect(statSync(out).size).toBeLessThan(0.75 * statSync(encoder).size);
    const [int8, q4] = [await ort.InferenceSession.create(encoder), await ort.InferenceSession.create(out)];
    for (const seed of [1, 2]) {
      const f = Object.fromEntries(Object.entries(corpusFeeds(encoderModel, seed)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
      const [a, b] = [(await int8.run(f)).last_hidden_state!.data as Float32Array, (await q4.run(f)).last_hidden_state!.data as Float32Array];
      let d = 0, x = 0, y = 0;
      for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
      // measured 0.952 / 0.803 on 0.25 s of noise, which this encoder meets with little margin
      // (seeds 3-5: 0.91, 0.89, 0.88; 8-bit re-quantization stays above 0.99)
      expect(d / Math.sqrt(x * y), `seed ${seed}`).toBeGreaterThan(0.75);
    }
  });

  it('static int8 on synthetic:N: made-up audio long enough for the strided convolutions; calibration runs', () => {
    // 512 samples would leave the third strided Conv nothing to convolve: synthetic data doubles to 1024
    const made = whittle('quantize', 'static', encoder, '--data', 'synthetic:2', '-o', join(dir, 'static.onnx'));
    expect(made.stderr).toMatch(/input_values \[1024\] \(num_samples=1024 \(signal length; 512 collapses to nothing in the model's strided layers\)\)/);
    expect(made.stderr).not.toMatch(/could not run the model/);
    // the int8 copies of the three float Conv weights are then no smaller than the publisher's
    // uint8 ones, which is refused as such; a spec's size runs the same way
    expect(made.code).toBe(1);
    expect(made.stderr).toMatch(/NoCompressionError: nothing compressed: the stored weights grew .*already quantized: 36 layer/);
    const spec = join(dir, 'audio.yaml');
    writeFileSync(spec, 'kind: synthetic\nsynthetic: { count: 2, dims: { num_samples: 4000 } }\n');
    const sized = whittle('quantize', 'static', encoder, '--data', spec, '-o', join(dir, 'static.onnx'));
    expect(sized.code).toBe(1);
    expect(sized.stderr).not.toMatch(/could not run the model/);
    expect(sized.stderr).toMatch(/NoCompressionError: nothing compressed: the stored weights grew .*already quantized: 36 layer/);
  });
});

describe('pruning an already-quantized transformer', () => {
  it('unstructured and sparsegpt both refuse naming the integer layers; sparsegpt says so before asking for data', async () => {
    const out = join(dir, 'pruned.onnx');
    // magnitude pruning reaches the three Conv weights the graph dequantizes from int8 (the front
    // end folds them to float32, so the stored weights grow): the refusal says why they grew
    const mag = await whittleInProcess('prune', 'unstructured', encoder, '-o', out);
    expect(mag.code).toBe(1);
    expect(mag.stderr).toMatch(/the stored weights grew .*already quantized: 36 layer\(s\) hold integer weights \(36 MatMulInteger\).*3 weight\(s\) are stored as integers \(3 int8\) and dequantized in the graph/);
    // SparseGPT prunes Gemm/MatMul only: nothing here, said without --data, with the same facts
    const gpt = await whittleInProcess('prune', 'sparsegpt', encoder, '-o', out);
    expect(gpt.code).toBe(1);
    expect(gpt.stderr).not.toMatch(/calibration data/);
    expect(gpt.stderr).toMatch(/prune-sparsegpt: no Gemm\/MatMul layer with a float32 or float16 initializer weight to prune; 36 layer\(s\) hold integer weights \(36 MatMulInteger\), already quantized, which pruning leaves as they are; 3 Conv weight\(s\) are left to prune-unstructured \/ prune-nm/);
    expect(existsSync(out)).toBe(false);
  });

  it('the merged decoder: every pruning pass names its 108 MatMulInteger layers, none advises normalize', async () => {
    for (const [cmd, said] of [['unstructured', 'prune-unstructured: no Conv/Gemm/MatMul layer'], ['sparsegpt', 'prune-sparsegpt: no Gemm/MatMul layer'], ['structured', 'prune-structured: no Conv/Gemm/MatMul with a float32 or float16 initializer weight:']] as const) {
      const r = await whittleInProcess('prune', cmd, decoder, '-o', join(dir, `${cmd}.onnx`));
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toContain(said);
      expect(r.stderr, cmd).toContain('108 layer(s) hold integer weights (108 MatMulInteger), already quantized, which pruning leaves as they are');
      expect(r.stderr, cmd).not.toMatch(/normalize/);
    }
  });
});

describe('float16 of the encoders', () => {
  const feeds = (m: typeof encoderModel, seed: number) => Object.fromEntries(Object.entries(corpusFeeds(m, seed)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
  const cosine = (a: Float32Array, b: Float32Array): number => {
    let d = 0, x = 0, y = 0;
    for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
    return d / Math.sqrt(x * y);
  };

  it('Moonshine: refused after the front end (it folds the int8 Conv weights to float32), converted without it, the int8 weights dequantized in float32', async () => {
    const out = join(dir, 'encoder_fp16.onnx');
    const folded = await whittleInProcess('quantize', 'float16', encoder, '-o', out);
    expect(folded.code).toBe(1);
    expect(folded.stderr).toMatch(/the stored weights grew from 7723196 to 9390932 bytes .*3 weight\(s\) are stored as integers \(3 int8\) and dequantized in the graph .*\(--no-front-end leaves them as stored\)/);
    const r = await whittleInProcess('quantize', 'float16', encoder, '--no-front-end', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    // 13,890 float32 values are all there is to halve: 7,723,196 → 7,695,500 bytes
    expect(r.stdout).toContain('9 dequantizing integer weights');
    expect(r.stdout).toContain('initializers 7723196 -> 7695500 bytes');
    const [int8, half] = [await ort.InferenceSession.create(encoder), await ort.InferenceSession.create(out)];
    for (const seed of [1, 2]) {
      const f = feeds(encoderModel, seed);
      // measured 0.9973 (as the front end's folded float32 weights give); their Cast/Mul/Add in
      // float16 gave 0.85
      expect(cosine((await int8.run(f)).last_hidden_state!.data as Float32Array, (await half.run(f)).last_hidden_state!.data as Float32Array), `seed ${seed}`).toBeGreaterThan(0.995);
    }
  });

  it('Whisper: the float32 positions, norms and biases to float16 (1.14x), the int8 layers kept; as close as float16-rounded features', async () => {
    const whisper = PREQUANTIZED_CORPUS.find((m) => m.id === 'whisper-encoder')!;
    const out = join(dir, 'whisper_encoder_fp16.onnx');
    const r = await whittleInProcess('quantize', 'float16', corpusPath(whisper), '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('78 casting and rescaling integer accumulators');
    expect(statSync(out).size).toBeLessThan(0.9 * statSync(corpusPath(whisper)).size);
    const [int8, half] = [await ort.InferenceSession.create(corpusPath(whisper)), await ort.InferenceSession.create(out)];
    const f = feeds(whisper, 1);
    const x = f.input_features!.data as Float32Array;
    const bits = new Uint32Array(Float32Array.from(x).buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! + 0xfff + ((bits[i]! >> 13) & 1)) & ~0x1fff) >>> 0;
    const state = async (s: ort.InferenceSession, g: Record<string, ort.Tensor>) => (await s.run(g)).last_hidden_state!.data as Float32Array;
    const ref = await state(int8, f);
    const floor = 1 - cosine(ref, await state(int8, { input_features: new ort.Tensor('float32', new Float32Array(bits.buffer), [1, 80, 3000]) }));
    // measured 0.9981 against a floor of 0.9979
    expect(1 - cosine(ref, await state(half, f))).toBeLessThan(2 * floor);
  });
});

describe('float16 of the merged decoder', () => {
  it('keeps the int8 accumulators float32; logits as close to float32 as float16-rounded encoder states give', async () => {
    const out = join(dir, 'decoder_fp16.onnx');
    const r = await whittleInProcess('quantize', 'float16', decoder, '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    // 108 MatMulInteger: each one's Cast, rescaling Mul and scale product
    expect(r.stdout).toContain('324 casting and rescaling integer accumulators');
    // encoder states as the decoder meets them: the encoder's output on the corpus input
    const feeds = (x: Record<string, { type: string; data: unknown; dims: number[] }>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, new ort.Tensor(v.type as 'float32', v.data as Float32Array, v.dims)]));
    const enc = await ort.InferenceSession.create(encoder);
    const states = (await enc.run(feeds(corpusFeeds(encoderModel, 1))))[enc.outputNames[0]!]!;
    const base = { ...feeds(corpusFeeds(decoderModel, 1)), encoder_hidden_states: states };
    // the float32 decoder's own spread: the same states rounded to float16 (round to nearest even)
    const bits = new Uint32Array(Float32Array.from(states.data as Float32Array).buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! + 0xfff + ((bits[i]! >> 13) & 1)) & ~0x1fff) >>> 0;
    const rounded = { ...base, encoder_hidden_states: new ort.Tensor('float32', new Float32Array(bits.buffer), states.dims) };
    const [f32, f16] = [await ort.InferenceSession.create(decoder), await ort.InferenceSession.create(out)];
    const logits = async (s: ort.InferenceSession, f: Record<string, ort.Tensor>) => (await s.run(f)).logits!.data as Float32Array;
    const [ref, half, floor] = [await logits(f32, base), await logits(f16, base), await logits(f32, rounded)];
    const cosine = (a: Float32Array, b: Float32Array): number => {
      let d = 0, x = 0, y = 0;
      for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
      return d / Math.sqrt(x * y);
    };
    expect(half.every(Number.isFinite)).toBe(true);
    // dynamic int8 requantizes every activation, so any float16 rounding moves the logits by about
    // what rounding the input alone does; the converted model stays within twice that
    expect(1 - cosine(ref, half)).toBeLessThan(2 * (1 - cosine(ref, floor)));
  });
});
