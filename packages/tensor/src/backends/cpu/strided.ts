import type { TensorInfo } from '../../backend.js';
import { type StorageArray, allocStorage } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import { copyStrided } from '../../strided_copy.js';
import type { CpuHandle } from './backend.js';

/**
 * Call `fn(srcIndex, dstIndex)` for every element of a strided view in row-major order. The
 * source offset is updated incrementally (no per-element division).
 */
export function forEachStrided(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  fn: (src: number, dst: number) => void,
): void {
  const rank = shape.length;
  const size = sizeOf(shape);
  if (size === 0) return;
  if (rank === 0) {
    fn(offset, 0);
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastDim = shape[last]!;
  const lastStride = strides[last]!;
  let src = offset;
  let dst = 0;
  for (;;) {
    let s = src;
    for (let j = 0; j < lastDim; j++, s += lastStride) fn(s, dst++);
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Copy a strided view into new contiguous storage. */
export function gatherStrided(info: TensorInfo<CpuHandle>): StorageArray {
  const out = allocStorage(info.dtype, sizeOf(info.shape));
  copyStrided(info.handle.values as StorageArray, info.shape, info.strides, info.offset, out);
  return out;
}
