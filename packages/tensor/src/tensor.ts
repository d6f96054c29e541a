import type { Backend, BackendName, DataHandle, TensorInfo } from './backend.js';
import { type DType, type StorageArray, toFloat64 } from './dtype.js';
import { runBackward } from './autograd/backward_hook.js';
import { type Shape, isContiguous, sizeOf } from './shape.js';
import type { GradNode } from './autograd/node.js';
import { BackendError } from './errors.js';

/** Reference-counted storage shared by a tensor and its views. */
export class Storage {
  refs = 0;
  released = false;
  constructor(
    readonly backend: Backend,
    readonly handle: DataHandle,
  ) {}
  retain(): void {
    this.refs++;
  }
  drop(): void {
    if (--this.refs <= 0 && !this.released) {
      this.released = true;
      this.backend.release(this.handle);
    }
  }
}

const registry = new FinalizationRegistry<Storage>((s) => s.drop());
/**
 * Only storage that needs an explicit release (GPU buffers) is tracked for finalization. The
 * registry holds its value strongly until the cleanup task runs, and a training loop that only
 * awaits microtasks never lets it run — tracking cpu typed arrays that way kept every batch's
 * activations alive (gigabytes per epoch). Cpu storage is plain garbage-collected memory.
 */
const finalizer = {
  register(t: Tensor, s: Storage): void {
    if (s.backend.name !== 'cpu') registry.register(t, s, t);
  },
  unregister(t: Tensor): void {
    registry.unregister(t);
  },
};
let nextId = 1;

/**
 * An n-dimensional array on a backend. Views (reshape, transpose, slice, expand) share storage
 * with their source and only change shape/strides/offset.
 *
 * Storage is freed when the last tensor viewing it is disposed or garbage-collected; call
 * `dispose()` in loops on the webgpu backend to return GPU memory promptly.
 */
export class Tensor implements TensorInfo {
  readonly id = nextId++;
  /** Whether gradients flow to this tensor (parameters, or results of ops on such tensors). */
  requiresGrad = false;
  /** Accumulated gradient after `backward()` for leaf tensors that require grad. */
  grad: Tensor | null = null;
  /** The recorded operation that produced this tensor (null for leaves). */
  gradNode: GradNode | null = null;
  /** Which output of `gradNode` this tensor is. */
  gradOutputIndex = 0;
  private disposed = false;

  constructor(
    readonly dtype: DType,
    readonly shape: Shape,
    readonly strides: readonly number[],
    readonly offset: number,
    readonly storage: Storage,
  ) {
    storage.retain();
    finalizer.register(this, storage);
  }

  get handle(): DataHandle {
    if (this.disposed) throw new BackendError(`tensor #${this.id} [${this.shape.join(',')}] was disposed`);
    return this.storage.handle;
  }
  get backend(): BackendName {
    return this.storage.backend.name;
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isDisposed(): boolean {
    return this.disposed;
  }
  /** True when elements are laid out row-major from offset 0 with no gaps. */
  get isContiguous(): boolean {
    return this.offset === 0 && isContiguous(this.shape, this.strides);
  }

  /** Contiguous host copy of the elements (float16 as bits, int64 as BigInt64Array). */
  async data(): Promise<StorageArray> {
    return this.storage.backend.read(this.infoChecked());
  }
  /** Synchronous host copy; throws on backends that cannot read synchronously (webgpu). */
  dataSync(): StorageArray {
    return this.storage.backend.readSync(this.infoChecked());
  }
  /** Elements decoded to float64 (handy for tests and references). */
  async toFloat64(): Promise<Float64Array> {
    return toFloat64(this.dtype, await this.data(), this.size);
  }
  /** Nested arrays are not built; returns a flat number[] with the shape. */
  async array(): Promise<{ shape: number[]; values: number[] }> {
    return { shape: [...this.shape], values: Array.from(await this.toFloat64()) };
  }
  /** A single element of a one-element tensor. */
  async item(): Promise<number> {
    const v = await this.toFloat64();
    if (v.length !== 1) throw new BackendError(`item(): tensor has ${v.length} elements, expected 1`);
    return v[0]!;
  }

  /** Release this tensor's reference to its storage. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this);
    this.storage.drop();
  }

  /**
   * Swap this tensor's storage for `storage` (same dtype, at least as many elements; the
   * layout stays this tensor's contiguous one). Only `Engine.assign` calls this, for in-place
   * parameter updates by optimizers. @internal
   */
  replaceStorage(storage: Storage): void {
    void this.handle; // throws when disposed
    storage.retain();
    finalizer.unregister(this);
    const old = this.storage;
    (this as { storage: Storage }).storage = storage;
    finalizer.register(this, storage);
    old.drop();
  }

  /** Mark as a trainable leaf (in place) and return this. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** A tensor sharing storage with no gradient history. */
  detach(): Tensor {
    return new Tensor(this.dtype, this.shape, this.strides, this.offset, this.storage);
  }

  /** Run backpropagation from this (scalar unless `dy` given) tensor. */
  backward(dy?: Tensor): void {
    runBackward(this, dy);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(',')}], ${this.backend})`;
  }

  private infoChecked(): TensorInfo {
    void this.handle;
    return this;
  }
}
