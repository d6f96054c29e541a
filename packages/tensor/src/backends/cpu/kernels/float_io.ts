import type { TensorInfo } from '../../../backend.js';
import { type DType, float16BitsToFloat32, float32ToFloat16Bits } from '../../../dtype.js';
import type { Shape } from '../../../shape.js';
import { type CpuBackend, type CpuTensor, cpuValues } from '../backend.js';

/**
 * The storage of a float input as a Float32Array (float16 bits decoded once; float32 and
 * 8/32-bit integer storage returned as is, read through numeric indexing). Strides and offset
 * of `info` still apply.
 */
export function floatStorage(info: TensorInfo): Float32Array {
  const v = cpuValues(info);
  if (info.dtype !== 'float16') return v;
  const h = v as unknown as Uint16Array;
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = float16BitsToFloat32(h[i]!);
  return out;
}

/** Wrap float32 results as an output of `dtype` (float16 results are rounded to half bits). */
export function floatOutput(backend: CpuBackend, dtype: DType, shape: Shape, values: Float32Array): CpuTensor {
  if (dtype !== 'float16') return backend.output(dtype, shape, values);
  const h = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) h[i] = float32ToFloat16Bits(values[i]!);
  return backend.output(dtype, shape, h);
}
