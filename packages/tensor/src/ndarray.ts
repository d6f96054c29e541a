/**
 * Interop with scijs `ndarray` views: {@link fromNdarray} makes a tensor of one (sharing its
 * buffer when the view is row-major contiguous), {@link toNdarray} returns a tensor's elements as
 * an ndarray.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import type { DType, StorageArray } from './dtype.js';
import { ArgumentError } from './errors.js';
import { copyStrided } from './strided_copy.js';
import type { Tensor } from './tensor.js';
import { tensor, type CreateOptions } from './ops/creation.js';

const TYPED: readonly [new (n: number) => StorageArray, DType][] = [
  [Float32Array, 'float32'], [Float64Array, 'float64'], [Int32Array, 'int32'], [BigInt64Array, 'int64'],
  [Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int16Array, 'int16'], [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'], [BigUint64Array, 'uint64'],
];

function dtypeOf(data: unknown): [new (n: number) => StorageArray, DType] | undefined {
  return TYPED.find(([Ctor]) => data instanceof Ctor);
}

/** True when the view's strides are row-major for its shape (offset anywhere). */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && stride[i]! !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

/**
 * A tensor holding an ndarray view's elements. A row-major contiguous view over a typed array
 * (Float32Array, Float64Array, Int8/16/32Array, Uint8/16/32Array, BigInt64/BigUint64Array) is
 * handed to the backend as a subarray of its buffer (no gather; the backend's upload is the one
 * copy, so later writes to the ndarray do not reach the tensor); transposed, stepped or
 * negative-stride views are gathered into a new array first. `dtype` defaults
 * to the typed array's (Uint16Array is read as uint16, not float16).
 * @throws ArgumentError when the view's data is not one of those typed arrays.
 */
export function fromNdarray(a: NdArray, opts: CreateOptions & { dtype?: DType } = {}): Tensor {
  const found = dtypeOf(a.data);
  if (!found) throw new ArgumentError(`fromNdarray(): ndarray data must be a typed array (Float32Array, Int32Array, …), got ${Array.isArray(a.data) ? 'a plain array' : typeof a.data}; build the ndarray over a typed array`);
  const [Ctor, dt] = found;
  const dtype = opts.dtype ?? dt;
  const shape = [...a.shape];
  const size = shape.reduce((p, d) => p * d, 1);
  const data = a.data as unknown as StorageArray;
  let storage: StorageArray;
  if (isRowMajor(shape, a.stride)) {
    storage = data.subarray(a.offset, a.offset + size) as StorageArray;
  } else {
    storage = new Ctor(size);
    copyStrided(data, shape, a.stride, a.offset, storage);
  }
  const createOpts: CreateOptions = opts.backend === undefined ? {} : { backend: opts.backend };
  return tensor(storage, shape, dtype, createOpts);
}

/** The tensor's elements (read synchronously, row-major) as an ndarray of the same shape. */
export function toNdarray(t: Tensor): NdArray {
  return ndarray(t.dataSync() as Float32Array, [...t.shape]) as NdArray;
}
