/** onnxruntime-node runners (node only). */
import * as ort from 'onnxruntime-node';
import { ArgumentError, float16ToFloat32Array, float32BitsToFloat16 } from '@whittle/tensor';
import type { Model } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { argmaxRows } from './metrics.js';
import { sampleElementType } from './dataset.js';

/** A model to run: .onnx bytes, a file path (external data next to it works), or a Model. */
export type OrtModelSource = Uint8Array | string | Model;

/** An input: typed data with its dims (float32 unless `type` says otherwise), or an ort.Tensor. */
export type OrtFeed =
  | { data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array; dims: readonly number[]; type?: ort.Tensor.Type }
  | ort.Tensor;

export interface OrtOutput {
  data: Float32Array;
  dims: number[];
  /** The element type ORT produced (data is converted to float32). */
  type: string;
}

export interface OrtRunnerOptions {
  intraOpNumThreads?: number;
}

export interface OrtRunner {
  readonly inputNames: readonly string[];
  /** The tensor outputs: the ones run and returned. */
  readonly outputNames: readonly string[];
  /**
   * Outputs that are not tensors (a sequence of maps from ai.onnx.ml ZipMap, as skl2onnx writes
   * classifier probabilities): onnxruntime-node cannot hand them to JavaScript, so they are not
   * fetched.
   */
  readonly nonTensorOutputs: readonly string[];
  /** Element type of each tensor output as onnxruntime declares it ('float32', 'int64', ...). */
  readonly outputTypes: ReadonlyMap<string, string>;
  /** Input shapes as ORT reports them (symbolic dims as strings), by name. */
  readonly inputShapes: ReadonlyMap<string, readonly (number | string)[]>;
  /** Run; every output converted to a Float32Array. */
  run(feeds: Record<string, OrtFeed>): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}

function toFloat16(v: Float32Array): Uint16Array {
  const out = new Uint16Array(v.length);
  float32BitsToFloat16(new Uint32Array(v.buffer, v.byteOffset, v.length), out);
  return out;
}

function toFloat32(t: ort.Tensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) return float16ToFloat32Array(d);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d)) return Float32Array.from(d as unknown as ArrayLike<number>);
  throw new ArgumentError(`ORT output of type ${t.type} cannot be converted to numbers`);
}

/** Create an onnxruntime-node session and wrap it with float32 outputs. */
export async function createOrtRunner(model: OrtModelSource, opts: OrtRunnerOptions = {}): Promise<OrtRunner> {
  const options: ort.InferenceSession.SessionOptions = {};
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model instanceof Uint8Array ? model : writeModel(model), options);
  const inputShapes = new Map<string, readonly (number | string)[]>();
  for (const m of session.inputMetadata ?? []) if (m.isTensor) inputShapes.set(m.name, m.shape);
  // onnxruntime-node fails a whole run that fetches a non-tensor output ("Non tensor type is
  // temporarily not supported"), so runs fetch the tensor outputs only
  const nonTensorOutputs = (session.outputMetadata ?? []).filter((m) => !m.isTensor).map((m) => m.name);
  const outputNames = session.outputNames.filter((n) => !nonTensorOutputs.includes(n));
  const outputTypes = new Map<string, string>();
  for (const m of session.outputMetadata ?? []) if (m.isTensor) outputTypes.set(m.name, m.type);
  // a float16 model (past keys/values of a float16 decoder) is fed the float32 values others take
  const halfInputs = new Set((session.inputMetadata ?? []).filter((m) => m.isTensor && m.type === 'float16').map((m) => m.name));
  return {
    inputNames: session.inputNames,
    outputNames,
    nonTensorOutputs,
    outputTypes,
    inputShapes,
    async run(feeds) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) {
        if (!(f instanceof ort.Tensor) && halfInputs.has(name) && f.data instanceof Float32Array) inputs[name] = new ort.Tensor('float16', toFloat16(f.data), [...f.dims]);
        else inputs[name] = f instanceof ort.Tensor ? f : new ort.Tensor(f.type ?? sampleElementType(f.data), f.data as Float32Array, [...f.dims]);
      }
      const out = nonTensorOutputs.length ? await session.run(inputs, outputNames) : await session.run(inputs);
      const res: Record<string, OrtOutput> = {};
      for (const [name, t] of Object.entries(out)) res[name] = { data: toFloat32(t), dims: [...t.dims], type: t.type };
      return res;
    },
    release: () => session.release(),
  };
}

export interface EvaluateAccuracyOptions {
  batchSize?: number;
  /** Input to feed the images to (default: the model's first input). */
  inputName?: string;
  /** Output holding class scores (default: the model's first output). */
  outputName?: string;
  /** Shape of one sample without the batch dim; default from the model's input shape, else [1, s, s] for rank 4 or [pixels]. */
  sampleShape?: readonly number[];
  intraOpNumThreads?: number;
}

export interface AccuracyResult {
  accuracy: number;
  correct: number;
  total: number;
  predictions: Int32Array;
}

function resolveSampleShape(pixels: number, modelShape: readonly (number | string)[] | undefined): number[] {
  const rest = modelShape?.slice(1) ?? [];
  if (rest.length && rest.every((d): d is number => typeof d === 'number' && d > 0) && rest.reduce((a, b) => a * b, 1) === pixels) return rest;
  if (modelShape?.length === 4) {
    const side = Math.round(Math.sqrt(pixels));
    if (side * side === pixels) return [1, side, side];
  }
  if (modelShape?.length === 3) {
    const side = Math.round(Math.sqrt(pixels));
    if (side * side === pixels) return [side, side];
  }
  return [pixels];
}

/**
 * Classification accuracy of a model in onnxruntime-node: images (N × pixels, row-major) are fed in
 * batches; the argmax of each output row is the prediction.
 */
export async function evaluateAccuracyOrt(
  model: OrtModelSource,
  images: Float32Array,
  labels: ArrayLike<number>,
  opts: EvaluateAccuracyOptions = {},
): Promise<AccuracyResult> {
  const n = labels.length;
  if (n === 0) throw new ArgumentError('evaluateAccuracyOrt: no labels given');
  if (images.length % n !== 0) throw new ArgumentError(`evaluateAccuracyOrt: ${images.length} image values are not a whole number of images for ${n} labels`);
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new ArgumentError(`evaluateAccuracyOrt: batchSize must be a positive integer, got ${batchSize}`);
  const pixels = images.length / n;
  const runner = await createOrtRunner(model, opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {});
  try {
    const inputName = opts.inputName ?? runner.inputNames[0];
    if (!inputName || !runner.inputNames.includes(inputName)) {
      throw new ArgumentError(`evaluateAccuracyOrt: input '${inputName}' not in the model (inputs: ${runner.inputNames.join(', ')})`);
    }
    const outputName = opts.outputName ?? runner.outputNames[0]!;
    const sample = opts.sampleShape ? [...opts.sampleShape] : resolveSampleShape(pixels, runner.inputShapes.get(inputName));
    if (sample.reduce((a, b) => a * b, 1) !== pixels) {
      throw new ArgumentError(`evaluateAccuracyOrt: sampleShape [${sample.join(',')}] does not hold ${pixels} values per image`);
    }
    const predictions = new Int32Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const data = images.subarray(start * pixels, (start + b) * pixels);
      const out = await runner.run({ [inputName]: { data, dims: [b, ...sample] } });
      const scores = out[outputName];
      if (!scores) throw new ArgumentError(`evaluateAccuracyOrt: output '${outputName}' missing (outputs: ${runner.outputNames.join(', ')})`);
      predictions.set(argmaxRows(scores.data, scores.data.length / b), start);
    }
    let correct = 0;
    for (let i = 0; i < n; i++) if (predictions[i] === labels[i]) correct++;
    return { accuracy: correct / n, correct, total: n, predictions };
  } finally {
    await runner.release();
  }
}
