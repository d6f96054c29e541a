import type { BackendName } from '../backend.js';
import { type DType, type StorageArray, fromNumbers } from '../dtype.js';
import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Rng } from '../rng.js';
import { type Shape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Options shared by creation functions. */
export interface CreateOptions {
  /** Backend to create on (default: the current backend). */
  backend?: BackendName;
}

/**
 * Create a tensor from values. A typed array of the dtype's storage type is copied as is;
 * plain numbers are converted (float16 rounded, int64 to BigInt, packed types packed).
 */
export function tensor(values: StorageArray | readonly number[], shape: Shape, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  const size = sizeOf(shape);
  if (Array.isArray(values) && values.length !== size) {
    throw new ArgumentError(`tensor(): ${values.length} values given for shape [${shape.join(',')}] (${size} elements)`);
  }
  const storage = Array.isArray(values) ? fromNumbers(dtype, values) : (values as StorageArray);
  return engine().fromStorage(dtype, shape, storage, opts.backend);
}

/** A scalar (rank-0) tensor. */
export function scalar(value: number, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  return tensor([value], [], dtype, opts);
}

/** Zeros. */
export function zeros(shape: Shape, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  return engine().zeros(dtype, shape, opts.backend);
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  const n = sizeOf(shape);
  const s = dtype === 'float32' ? new Float32Array(n).fill(value) : fromNumbers(dtype, new Array<number>(n).fill(value));
  return engine().fromStorage(dtype, shape, s, opts.backend);
}

/** Ones. */
export function ones(shape: Shape, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  return full(shape, 1, dtype, opts);
}

/** Zeros with the shape, dtype and backend of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, t.dtype, { backend: t.backend });
}

/** Ones with the shape, dtype and backend of `t`. */
export function onesLike(t: Tensor): Tensor {
  return ones(t.shape, t.dtype, { backend: t.backend });
}

/** Normal(mean, std) float32 samples from a seeded generator. */
export function randn(shape: Shape, rng: Rng, mean = 0, std = 1, opts: CreateOptions = {}): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.normal(mean, std);
  return engine().fromStorage('float32', shape, v, opts.backend);
}

/** Uniform [lo, hi) float32 samples from a seeded generator. */
export function rand(shape: Shape, rng: Rng, lo = 0, hi = 1, opts: CreateOptions = {}): Tensor {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(lo, hi);
  return engine().fromStorage('float32', shape, v, opts.backend);
}

/** [start, start+step, …) below `stop` as float32 or int32. */
export function arange(start: number, stop: number, step = 1, dtype: DType = 'float32', opts: CreateOptions = {}): Tensor {
  if (step === 0) throw new ArgumentError('arange(): step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const v: number[] = [];
  for (let i = 0; i < n; i++) v.push(start + i * step);
  return tensor(v, [n], dtype, opts);
}

/** Copy a tensor to another backend (async: may read back from the GPU). */
export async function toBackend(t: Tensor, backend: BackendName): Promise<Tensor> {
  if (t.backend === backend) return t;
  return engine().fromStorage(t.dtype, t.shape, await t.data(), backend);
}
