/**
 * Which output of a model the evaluation reads, and its values as float32. Exporters put other
 * things first or alongside: skl2onnx classifiers give an int64 label tensor and a ZipMap
 * (a sequence of maps onnxruntime-web cannot read, and fetching it fails the whole run).
 */
import { type FidelityMetrics, compareOutputs, scoreMidpoint } from '@whittle/eval';
import { float16ToFloat32Array } from '@whittle/tensor';

/** What onnxruntime-web reports of an output (`InferenceSession.outputMetadata`). */
export interface OutputInfo {
  name: string;
  isTensor: boolean;
  type?: string;
}

const FLOATS = new Set(['float32', 'float16', 'float64']);

/**
 * The output to fetch: the first float tensor (logits, probabilities, features), else the first
 * tensor of any element type (e.g. class labels). Throws, naming the outputs, when none is a tensor.
 */
export function evaluatedOutput(outputs: readonly OutputInfo[]): string {
  const pick = outputs.find((o) => o.isTensor && FLOATS.has(o.type ?? '')) ?? outputs.find((o) => o.isTensor);
  if (!pick) throw new Error(`none of the model's outputs (${outputs.map((o) => `'${o.name}'`).join(', ')}) is a tensor: onnxruntime-web cannot read sequences or maps, so there is nothing to compare`);
  return pick.name;
}

/** Output values as float32 (float16 bits, float64, integer labels and bigint data converted). */
export function asFloat32(data: unknown, type?: string): Float32Array {
  if (data instanceof Float32Array) return data;
  // onnxruntime-web hands float16 as raw bits where the browser has no Float16Array
  if (type === 'float16' && data instanceof Uint16Array) return float16ToFloat32Array(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, Number);
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return Float32Array.from(data as unknown as ArrayLike<number>);
  throw new Error(`the evaluated output holds ${Object.prototype.toString.call(data)}, not numbers`);
}

/**
 * Values per row along which top-1 is taken: the last dim of a [batch, …, C] output; 1 for a
 * [batch] output (one value per sample, e.g. a label), never the batch dim itself.
 */
export function rowLength(dims: readonly number[]): number {
  return dims.length >= 2 ? Number(dims[dims.length - 1]) || 1 : 1;
}

/**
 * Fidelity of `candidate` against `reference` outputs: top-1 agreement along rows of `lastDim`
 * values (scores, logits). For one value per row, an argmax always agrees: labels (whole numbers)
 * agree when equal, a single score (a sigmoid, a logit) when on the same side of its midpoint
 * (0.5 for values in [0, 1], else 0).
 */
export function outputFidelity(reference: Float32Array, candidate: Float32Array, lastDim: number): FidelityMetrics {
  if (lastDim > 1) return compareOutputs(reference, candidate, { numClasses: lastDim });
  const f = compareOutputs(reference, candidate);
  const labels = reference.every((x) => Number.isInteger(x));
  const mid = scoreMidpoint(reference);
  let same = 0;
  for (let i = 0; i < reference.length; i++) if (labels ? reference[i] === candidate[i] : reference[i]! > mid === candidate[i]! > mid) same++;
  return { ...f, top1Agreement: reference.length ? same / reference.length : 1 };
}
