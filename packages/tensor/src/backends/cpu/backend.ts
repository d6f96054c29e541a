import type { Backend, DataHandle, TensorInfo } from '../../backend.js';
import { type DType, type StorageArray, allocStorage, isPacked, storageLength } from '../../dtype.js';
import { BackendError } from '../../errors.js';
import { contiguousStrides, sizeOf, type Shape } from '../../shape.js';
import { gatherStrided } from './strided.js';

/** CPU storage: a typed array in host memory. */
export interface CpuHandle extends DataHandle {
  readonly backend: 'cpu';
  readonly values: StorageArray;
}

/** What a cpu kernel receives: a TensorInfo whose handle is a CpuHandle. */
export type CpuTensor = TensorInfo<CpuHandle>;

/** The JS backend. Kernels are pure functions on typed arrays. */
export class CpuBackend implements Backend<CpuHandle> {
  readonly name = 'cpu' as const;
  private live = 0;

  upload(dtype: DType, values: StorageArray, size: number): CpuHandle {
    const copy = values.slice(0, storageLength(dtype, size)) as StorageArray;
    this.live++;
    return { backend: 'cpu', values: copy };
  }

  /** Adopt `values` (no copy) as a new handle; kernels use this for their outputs. */
  adopt(values: StorageArray): CpuHandle {
    this.live++;
    return { backend: 'cpu', values };
  }

  /** Make a contiguous output info from freshly computed values (no copy). */
  output(dtype: DType, shape: Shape, values: StorageArray): CpuTensor {
    return { dtype, shape, strides: contiguousStrides(shape), offset: 0, handle: this.adopt(values) };
  }

  /** Allocate a zeroed contiguous output. */
  alloc(dtype: DType, shape: Shape): CpuTensor {
    return this.output(dtype, shape, allocStorage(dtype, sizeOf(shape)));
  }

  readSync(info: TensorInfo<CpuHandle>): StorageArray {
    const size = sizeOf(info.shape);
    const src = info.handle.values;
    if (isPacked(info.dtype)) return src.slice(0, storageLength(info.dtype, size)) as StorageArray;
    const contiguous = info.offset === 0 && info.strides.every((s, i) => s === contiguousStrides(info.shape)[i] || info.shape[i] === 1);
    if (contiguous) return src.slice(0, size) as StorageArray;
    return gatherStrided(info);
  }

  async read(info: TensorInfo<CpuHandle>): Promise<StorageArray> {
    return this.readSync(info);
  }

  release(_handle: CpuHandle): void {
    this.live--;
  }

  /** Allocations not yet disposed explicitly (garbage-collected cpu tensors are not counted down). */
  liveAllocations(): number {
    return this.live;
  }
}

let cpu: CpuBackend | null = null;

/** The process-wide cpu backend instance. */
export function cpuBackend(): CpuBackend {
  if (!cpu) cpu = new CpuBackend();
  return cpu;
}

/** Narrow a TensorInfo to the cpu handle (kernels call this on their inputs). */
export function cpuValues<T extends StorageArray = Float32Array>(info: TensorInfo): T {
  const h = info.handle as CpuHandle;
  if (h.backend !== 'cpu') throw new BackendError(`cpu kernel received a ${h.backend} tensor`);
  return h.values as T;
}
