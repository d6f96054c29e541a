/**
 * The data float16 variants (fp16, q4f16) are measured on before conversion: `convert-float16`
 * runs the float32 model on it and keeps in float32 the ops whose values leave float16's range
 * (an LLM's RMSNorm squaring a residual channel of hundreds, the "massive activations" of trained
 * decoders). onnxruntime's CPU provider computes most float16 ops in float32, so an unmeasured
 * variant that overflows looks right in Node and breaks where float16 is computed (WebGPU).
 */
import type { CalibrationSource, Model, PassContextInit } from '@whittle/graph';
import { calibrationFrom, modelInputSpecs, syntheticSource } from '@whittle/eval';
import { openCliData, textUnitFor } from '../data.js';
import { calibrationRuntime } from './context.js';

/** Made-up samples when no data is given: windows of token ids, or (float inputs: audio features, pixels) fewer, larger ones. */
const MADE_UP_TOKEN_SAMPLES = 8;
const MADE_UP_FLOAT_SAMPLES = 1;

/** Whether a plan's passes include the float16 conversion (its ranges need data). */
export function convertsToFloat16(steps: readonly { pass: string }[]): boolean {
  return steps.some((s) => s.pass === 'convert-float16');
}

/** What the float16 ranges are measured on, and the pass context carrying it. */
export interface Float16RangeData {
  init: Pick<PassContextInit, 'calibration' | 'activationRuntime' | 'calibrationRuntime'>;
  /** For the result: what the data is, in short. */
  description: string;
  /** For the log: the data source's full description (made-up inputs: every size chosen). */
  detail: string;
}

/**
 * The model's own `--data` (token ids .jsonl, raw text with its tokenizer.json, a data spec), else
 * seeded made-up inputs of its input specs: token ids below `vocab`, all-ones masks, positions,
 * an empty KV cache; `shapes` fixes input sizes (a folder's processor inputs).
 */
export async function float16RangeData(model: Model, o: { data?: string | undefined; vocab?: number | undefined; shapes?: Record<string, number[]> | undefined; decoder: boolean }): Promise<Float16RangeData> {
  let calibration: CalibrationSource;
  let description: string;
  let detail: string;
  if (o.data) {
    const d = await openCliData(o.data, model, 'train', textUnitFor(undefined, o.decoder));
    calibration = calibrationFrom(d.source, { inputs: d.inputs, batchSize: 8, limit: 64 });
    description = detail = d.source.description;
  } else {
    const specs = modelInputSpecs(model).map((s) => (o.shapes?.[s.name] ? { ...s, shape: o.shapes[s.name] } : s));
    // a processor's float input (not a KV cache) is large: a spectrogram, an image
    const count = specs.some((x) => x.elemType === 'float32' && !/past|cache/i.test(x.name)) ? MADE_UP_FLOAT_SAMPLES : MADE_UP_TOKEN_SAMPLES;
    const src = syntheticSource(specs, { count, seed: 0, ...(o.vocab ? { intHigh: o.vocab } : {}) });
    calibration = calibrationFrom(src, { inputs: specs, batchSize: count });
    // the vocabulary bounds token ids only: an audio or image encoder has none
    const tokens = o.vocab && specs.some((x) => /(^|[_.])input_ids$/.test(x.name));
    description = `${count} made-up samples (seed 0${tokens ? `, token ids below ${o.vocab}` : ''}; data-free)`;
    detail = src.description;
  }
  return { init: { calibration, ...(await calibrationRuntime()) }, description, detail };
}
