import type { DType, StorageArray } from './dtype.js';
import type { Shape } from './shape.js';
import type { KernelAttrs, KernelName } from './kernel_names.js';

export type BackendName = 'cpu' | 'webgpu';

/** Opaque per-backend handle of a tensor's storage. */
export interface DataHandle {
  readonly backend: BackendName;
}

/**
 * What a kernel sees of a tensor: dtype, logical shape, element strides and offset into the
 * storage `handle`. Kernels that are not marked `strided` always receive contiguous inputs with
 * offset 0.
 */
export interface TensorInfo<H extends DataHandle = DataHandle> {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly handle: H;
}

/** A compute backend: owns storage and runs kernels registered for its name. */
export interface Backend<H extends DataHandle = DataHandle> {
  readonly name: BackendName;
  /** Copy host storage (contiguous, `size` logical elements) into a new handle. */
  upload(dtype: DType, values: StorageArray, size: number): H;
  /** Read a tensor (any strides) back as contiguous host storage. */
  read(info: TensorInfo<H>): Promise<StorageArray>;
  /** Synchronous read; only backends that can do it (cpu) implement it without throwing. */
  readSync(info: TensorInfo<H>): StorageArray;
  /** Free a handle's storage. Called once when the last tensor viewing it is disposed. */
  release(handle: H): void;
  /** Number of live storage allocations (for leak checks). */
  liveAllocations(): number;
}

/**
 * Kernel configuration: the (backend, op name) → run mapping the registry stores. `N` types
 * `attrs` from the contract in kernel_names.ts.
 */
export interface KernelConfig<B extends Backend = Backend, N extends KernelName = KernelName> {
  readonly name: N;
  readonly backend: BackendName;
  /** The kernel handles arbitrary strides/offsets itself; otherwise inputs are made contiguous. */
  readonly strided?: boolean;
  run(inputs: TensorInfo[], attrs: KernelAttrs[N], backend: B): TensorInfo[];
}
