/**
 * The runtime-neutral view of a decoder session the LM evaluation drives: onnxruntime-node,
 * onnxruntime-web and Transformers.js' sessions all fit it (their tensors carry `type`, `dims`,
 * `data`). Browser-safe.
 */
import { float16ToFloat32Array } from '@whittle/tensor';
import { EvaluationError } from '../errors.js';

/** A tensor as a runtime hands it out; presents are passed back unchanged as the next past. */
export interface DecoderTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** Element types the loop creates. */
export type DecoderFeedType = 'int64' | 'bool' | 'float32' | 'float16';

/** A loaded decoder: input/output names, input metadata, a tensor factory and `run`. */
export interface DecoderSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Element type and dims of an input as the runtime reports them (symbolic dims as strings). */
  inputInfo(name: string): { type: string; shape: readonly (number | string)[] } | undefined;
  /** Make a feed tensor. */
  tensor(type: DecoderFeedType, data: BigInt64Array | Uint8Array | Float32Array | Uint16Array, dims: readonly number[]): DecoderTensor;
  run(feeds: Record<string, DecoderTensor>): Promise<Record<string, DecoderTensor>>;
}

/** A float output as float32 values (float16 outputs arrive as Uint16Array bits or Float16Array). */
export function tensorFloats(t: DecoderTensor, what: string): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === 'float16' && d instanceof Uint16Array) return float16ToFloat32Array(d);
  if (ArrayBuffer.isView(d) && !(d instanceof BigInt64Array) && !(d instanceof BigUint64Array) && !(d instanceof DataView)) return Float32Array.from(d as unknown as ArrayLike<number>);
  throw new EvaluationError(`${what}: output of type ${t.type} is not a float tensor`);
}
