import type { Backend, BackendName, TensorInfo } from './backend.js';
import { type DType, type StorageArray, allocStorage, checkStorage, isPacked, isStorageOnly } from './dtype.js';
import { BackendError, DTypeError, ShapeError } from './errors.js';
import { getKernel } from './kernel_registry.js';
import type { KernelAttrs, KernelName, OpAttrs, OpName, ViewAttrs, ViewName } from './kernel_names.js';
import { type Shape, checkShape, contiguousStrides, shapesEqual, sizeOf } from './shape.js';
import { Storage, Tensor } from './tensor.js';
import { getGradient } from './autograd/gradient_registry.js';
import type { GradNode } from './autograd/node.js';
import { setBackwardImpl } from './autograd/backward_hook.js';

type BackendFactory = () => Promise<Backend>;

/**
 * The engine: owns the backends, picks kernels from the registry, records the autograd tape
 * and runs backward. There is one per process (`engine()`).
 */
export class Engine {
  private readonly factories = new Map<BackendName, BackendFactory>();
  private readonly instances = new Map<BackendName, Backend>();
  private current: BackendName = 'cpu';
  private gradDepth = 0;

  registerBackend(name: BackendName, factory: BackendFactory): void {
    this.factories.set(name, factory);
  }

  /** Install an already-constructed backend (used for the synchronous cpu default). */
  installBackend(backend: Backend): void {
    this.instances.set(backend.name, backend);
  }

  /** Initialize (once) and return a backend; throws a BackendError when it is unavailable. */
  async initBackend(name: BackendName): Promise<Backend> {
    const have = this.instances.get(name);
    if (have) return have;
    const factory = this.factories.get(name);
    if (!factory) throw new BackendError(`backend ${name} is not registered (for webgpu in Node import '@whittle/tensor/node')`);
    const b = await factory();
    this.instances.set(name, b);
    return b;
  }

  /** Make `name` the backend new tensors are created on. No fallback: failure throws. */
  async setBackend(name: BackendName): Promise<Backend> {
    const b = await this.initBackend(name);
    this.current = name;
    return b;
  }

  /** Choose webgpu when an adapter exists, otherwise cpu; returns the chosen name. */
  async autoSelectBackend(): Promise<BackendName> {
    if (this.factories.has('webgpu')) {
      try {
        await this.setBackend('webgpu');
        return 'webgpu';
      } catch {
        // no adapter: the documented choice is cpu
      }
    }
    await this.setBackend('cpu');
    return 'cpu';
  }

  get backendName(): BackendName {
    return this.current;
  }

  backend(name: BackendName = this.current): Backend {
    const b = this.instances.get(name);
    if (!b) throw new BackendError(`backend ${name} is not initialized; await setBackend('${name}') first`);
    return b;
  }

  /** Whether `name` has been initialized successfully. */
  isReady(name: BackendName): boolean {
    return this.instances.has(name);
  }

  // ---- tensors -----------------------------------------------------------------------

  /** Wrap a kernel's output info as a tensor that owns its storage. */
  wrap(info: TensorInfo, backend: Backend): Tensor {
    return new Tensor(info.dtype, [...info.shape], [...info.strides], info.offset, new Storage(backend, info.handle));
  }

  /** Create a tensor from host storage (copied) on a backend. */
  fromStorage(dtype: DType, shape: Shape, values: StorageArray, backend: BackendName = this.current): Tensor {
    checkShape(shape, 'tensor');
    const size = sizeOf(shape);
    checkStorage(dtype, values, size, `tensor(${dtype}, [${shape.join(',')}])`);
    const b = this.backend(backend);
    const handle = b.upload(dtype, values, size);
    return new Tensor(dtype, [...shape], contiguousStrides(shape), 0, new Storage(b, handle));
  }

  zeros(dtype: DType, shape: Shape, backend: BackendName = this.current): Tensor {
    return this.fromStorage(dtype, shape, allocStorage(dtype, sizeOf(shape)), backend);
  }

  // ---- kernels -----------------------------------------------------------------------

  /**
   * Run kernel `name` on the inputs' backend (or the current backend when there are no
   * inputs). All inputs must live on one backend; there is no silent transfer or fallback.
   */
  runKernel<N extends KernelName>(name: N, inputs: readonly Tensor[], attrs: KernelAttrs[N]): Tensor[] {
    const backendName = inputs.length ? inputs[0]!.backend : this.current;
    for (const t of inputs) {
      if (t.backend !== backendName) {
        throw new BackendError(`${name}: inputs live on different backends (${backendName} and ${t.backend}); move them with toBackend() first`);
      }
    }
    if (name !== 'Cast' && name !== 'Contiguous') {
      const t = inputs.find((x) => isStorageOnly(x.dtype));
      if (t) throw new DTypeError(`${name}: ${t.dtype} is a storage-only dtype (Whittle converts it but does not compute with it); cast it to float32 first`);
    }
    const backend = this.backend(backendName);
    const kernel = getKernel(backendName, name);
    const prepared = kernel.strided ? inputs : inputs.map((t) => this.contiguous(t));
    const infos = kernel.run([...prepared], attrs, backend);
    const outputs = infos.map((info) => this.wrap(info, backend));
    this.record(name, inputs, outputs, attrs);
    return outputs;
  }

  /** Run a single-output kernel. */
  run1<N extends KernelName>(name: N, inputs: readonly Tensor[], attrs: KernelAttrs[N]): Tensor {
    const out = this.runKernel(name, inputs, attrs);
    if (out.length !== 1) throw new BackendError(`${name}: expected one output, kernel returned ${out.length}`);
    return out[0]!;
  }

  /** A contiguous tensor with the same elements (the input itself when already contiguous). */
  contiguous(t: Tensor): Tensor {
    if (t.isContiguous) return t;
    if (isPacked(t.dtype)) throw new ShapeError(`packed ${t.dtype} tensors cannot be strided views`);
    return this.run1('Contiguous', [t], {});
  }

  /**
   * A view of `src` with new shape/strides/offset over the same storage, recorded on the tape
   * under `name` (its gradient must be registered) when `src` requires grad.
   */
  view<N extends ViewName>(src: Tensor, name: N, shape: Shape, strides: readonly number[], offset: number, attrs: ViewAttrs[N]): Tensor {
    if (isPacked(src.dtype) && !(shapesEqual(strides, contiguousStrides(shape)) && offset === src.offset)) {
      throw new ShapeError(`${name}: packed ${src.dtype} tensors cannot be strided views; cast first`);
    }
    const out = new Tensor(src.dtype, [...shape], [...strides], offset, src.storage);
    this.record(name, [src], [out], attrs);
    return out;
  }

  /**
   * In-place update (for optimizers): make `target` hold the elements of `value` by adopting
   * `value`'s storage (a contiguous copy of it when `value` is a view). `target` must be a
   * contiguous leaf (no recorded history) of the same dtype, shape and backend. Every holder of
   * the `target` object sees the new values; views taken from `target` earlier keep the old
   * ones. Storage is never written in place, so sharing it with `value` is safe. Not recorded
   * on the autograd tape.
   */
  assign(target: Tensor, value: Tensor): void {
    const where = `assign(${target.toString()}, ${value.toString()})`;
    if (target.gradNode) throw new ShapeError(`${where}: target is the result of a recorded op, not a leaf; assign to parameters only`);
    if (!target.isContiguous) throw new ShapeError(`${where}: target must be contiguous (it is a strided view)`);
    if (target.dtype !== value.dtype) throw new DTypeError(`${where}: dtypes differ`);
    if (!shapesEqual(target.shape, value.shape)) throw new ShapeError(`${where}: shapes differ`);
    if (target.backend !== value.backend) throw new BackendError(`${where}: backends differ; move value with toBackend() first`);
    const v = this.noGrad(() => this.contiguous(value));
    target.replaceStorage(v.storage);
    if (v !== value) v.dispose();
  }

  // ---- autograd ----------------------------------------------------------------------

  get gradEnabled(): boolean {
    return this.gradDepth === 0;
  }

  /** Run `fn` without recording gradients. */
  noGrad<T>(fn: () => T): T {
    this.gradDepth++;
    try {
      return fn();
    } finally {
      this.gradDepth--;
    }
  }

  /**
   * Async variant of {@link noGrad}: recording stays off until `fn`'s promise settles. Other
   * async work interleaved meanwhile also runs without recording, so don't train concurrently.
   */
  async noGradAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.gradDepth++;
    try {
      return await fn();
    } finally {
      this.gradDepth--;
    }
  }

  private record(name: OpName, inputs: readonly Tensor[], outputs: Tensor[], attrs: OpAttrs[OpName]): void {
    if (this.gradDepth > 0 || !inputs.some((t) => t.requiresGrad)) return;
    if (!getGradient(name)) return; // not differentiable (argmax, comparisons, …)
    const node: GradNode = { name, inputs: [...inputs], outputs, attrs };
    outputs.forEach((o, i) => {
      o.requiresGrad = true;
      o.gradNode = node;
      o.gradOutputIndex = i;
    });
  }

  /**
   * Backpropagate from `root`. Leaves that require grad get `.grad` (accumulated across calls);
   * the recorded graph is released afterwards.
   */
  backward(root: Tensor, dy?: Tensor): void {
    if (!root.requiresGrad) throw new BackendError('backward(): the tensor does not require grad (no trainable input reached it)');
    let seed = dy;
    if (!seed) {
      if (root.size !== 1) throw new ShapeError(`backward(): root has shape [${root.shape.join(',')}]; pass dy for non-scalar roots`);
      const ones = allocStorage(root.dtype, 1);
      (ones as Float32Array)[0] = 1;
      seed = this.fromStorage(root.dtype, root.shape, ones, root.backend);
    }
    const order: GradNode[] = [];
    const seen = new Set<GradNode>();
    const visit = (t: Tensor): void => {
      const start = t.gradNode;
      if (!start || seen.has(start)) return;
      // iterative DFS (deep graphs would overflow the JS stack)
      const stack: [GradNode, number][] = [[start, 0]];
      seen.add(start);
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        const [node, i] = top;
        if (i < node.inputs.length) {
          top[1]++;
          const child = node.inputs[i]!.gradNode;
          if (child && !seen.has(child)) {
            seen.add(child);
            stack.push([child, 0]);
          }
        } else {
          stack.pop();
          order.push(node);
        }
      }
    };
    visit(root);
    const grads = new Map<number, Tensor>();
    grads.set(root.id, seed);
    const leaves = new Map<number, Tensor>();
    this.noGrad(() => {
      for (let n = order.length - 1; n >= 0; n--) {
        const node = order[n]!;
        const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
        if (dys.every((d) => d === null)) continue;
        const fn = getGradient(node.name)!;
        const dxs = fn(dys, node);
        node.inputs.forEach((inp, i) => {
          const dx = dxs[i];
          if (!inp.requiresGrad || !dx) return;
          if (!shapesEqual(dx.shape, inp.shape)) {
            throw new ShapeError(`gradient of ${node.name} input ${i} has shape [${dx.shape.join(',')}], input is [${inp.shape.join(',')}]`);
          }
          const prev = grads.get(inp.id);
          grads.set(inp.id, prev ? this.run1('Add', [prev, dx], {}) : dx);
          if (!inp.gradNode) leaves.set(inp.id, inp);
        });
      }
      if (!root.gradNode) leaves.set(root.id, root);
      for (const leaf of leaves.values()) {
        const g = grads.get(leaf.id)!;
        leaf.grad = leaf.grad ? this.run1('Add', [leaf.grad, g], {}) : g;
      }
    });
    for (const node of order) for (const o of node.outputs) o.gradNode = null;
  }
}

let instance: Engine | null = null;

/** The process-wide engine. */
export function engine(): Engine {
  if (!instance) {
    const e = new Engine();
    setBackwardImpl((root, dy) => e.backward(root, dy));
    instance = e;
  }
  return instance;
}
