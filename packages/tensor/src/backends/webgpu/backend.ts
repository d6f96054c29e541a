import type { Backend, DataHandle, TensorInfo } from '../../backend.js';
import { float32BitsToFloat16 } from '../../float16_array.js';
import {
  type DType,
  type StorageArray,
  allocStorage,
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  isPacked,
  packFromInt32,
  storageLength,
  unpackToInt32,
} from '../../dtype.js';
import { BackendError, DTypeError } from '../../errors.js';
import { type Shape, contiguousStrides, isContiguous, sizeOf } from '../../shape.js';
import { contiguousProgram } from './kernels/Contiguous.js';

/**
 * GPU storage. Every dtype is widened to a 32-bit word per element on the GPU: float32 and
 * float16 as f32 (float16 values keep half precision because every write of a float16 result
 * rounds); uint32 and uint64 as u32 (uint64 must fit in uint32, checked on upload, and its
 * arithmetic wraps modulo 2^32 there); every other integer dtype and bool as i32 (int64 must fit
 * in int32, checked on upload; int8/uint8/int16/uint16 results are wrapped to their range).
 * Storage-only dtypes: float64 as f32 (rounded on upload: the GPU has no f64, as int64 has no
 * i64 here), bfloat16 as f32 (decoded on upload; Cast rounds every bfloat16 result), and the
 * float8/float4 formats as one i32 code per element (Cast decodes and encodes them in WGSL).
 */
export interface GpuHandle extends DataHandle {
  readonly backend: 'webgpu';
  readonly buffer: GPUBuffer;
  /** Logical element capacity of the buffer. */
  readonly elements: number;
}

export type GpuTensor = TensorInfo<GpuHandle>;

// wgslType lives in wgsl.ts (which kernels and this file import): re-exported for the kernels.
export { wgslType, type WgslScalar } from './wgsl.js';

/** One compute dispatch, described as data (kernel-as-data, as in onnxruntime-web). */
export interface GpuProgram {
  /** Static cache key: op, dtypes, rank, static attrs — never runtime shapes. */
  readonly key: string;
  /** WGSL source; called only when the key is not cached yet. */
  readonly source: () => string;
  readonly inputs: readonly GpuTensor[];
  readonly outputs: readonly { dtype: DType; shape: Shape }[];
  /** Runtime values (shapes, strides, sizes, f32 bit patterns) bound as `u: array<i32>`. */
  readonly uniforms: readonly number[];
  /** Workgroup counts. */
  readonly dispatch: readonly [number, number, number];
}

/** The WebGPU backend: WGSL compute kernels on a GPUDevice. */
export class WebGpuBackend implements Backend<GpuHandle> {
  readonly name = 'webgpu' as const;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private live = 0;
  private poolBytes = 0;

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
  ) {
    device.pushErrorScope('validation');
  }

  // ---- buffers -----------------------------------------------------------------------

  private acquire(elements: number): GPUBuffer {
    const bytes = Math.max(16, Math.ceil((elements * 4) / 16) * 16);
    const list = this.pool.get(bytes);
    const reused = list?.pop();
    if (reused) {
      this.poolBytes -= bytes;
      return reused;
    }
    if (bytes > this.device.limits.maxStorageBufferBindingSize) {
      throw new BackendError(`webgpu: a ${elements}-element tensor (${bytes} bytes) exceeds the device's maxStorageBufferBindingSize ${this.device.limits.maxStorageBufferBindingSize}`);
    }
    return this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /** Allocate an output buffer for `shape` (contents undefined until a kernel writes it). */
  allocHandle(elements: number): GpuHandle {
    this.live++;
    return { backend: 'webgpu', buffer: this.acquire(elements), elements };
  }

  release(handle: GpuHandle): void {
    this.live--;
    const bytes = handle.buffer.size;
    // keep a bounded pool of free buffers for reuse (training loops allocate the same sizes)
    if (this.poolBytes + bytes <= 256 * 1024 * 1024) {
      const list = this.pool.get(bytes) ?? [];
      list.push(handle.buffer);
      this.pool.set(bytes, list);
      this.poolBytes += bytes;
    } else {
      handle.buffer.destroy();
    }
  }

  liveAllocations(): number {
    return this.live;
  }

  upload(dtype: DType, values: StorageArray, size: number): GpuHandle {
    const h = this.allocHandle(size);
    if (size > 0) {
      const words = toGpuWords(dtype, values, size);
      this.device.queue.writeBuffer(h.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    }
    return h;
  }

  readSync(_info: GpuTensor): StorageArray {
    throw new BackendError('webgpu tensors cannot be read synchronously; use await tensor.data()');
  }

  async read(info: GpuTensor): Promise<StorageArray> {
    const size = sizeOf(info.shape);
    let src = info;
    if (!(info.offset === 0 && isContiguous(info.shape, info.strides))) {
      src = this.runProgram(contiguousProgram(info))[0]!;
    }
    const bytes = Math.max(16, Math.ceil((size * 4) / 16) * 16);
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src.handle.buffer, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await this.checkErrors();
    await staging.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(staging.getMappedRange().slice(0, size * 4));
    staging.unmap();
    staging.destroy();
    if (src !== info) this.release(src.handle);
    return fromGpuWords(info.dtype, words, size);
  }

  /** Surface validation errors raised since the last check as a BackendError. */
  async checkErrors(): Promise<void> {
    // pop and re-push before awaiting: the stack changes at call time, so concurrent checks
    // (reads awaited together) each pop a scope instead of finding the stack empty
    const popped = this.device.popErrorScope();
    this.device.pushErrorScope('validation');
    const err = await popped;
    if (err) throw new BackendError(`webgpu validation error: ${err.message}`);
  }

  // ---- programs ----------------------------------------------------------------------

  private pipeline(key: string, source: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: source(), label: key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Number of compiled pipelines (cache size). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Run one program: inputs bound at 0..n-1 (read), outputs at n..n+m-1 (read_write), the
   * uniforms at n+m as `array<i32>`. Returns contiguous outputs.
   */
  runProgram(program: GpuProgram): GpuTensor[] {
    const outputs: GpuTensor[] = program.outputs.map((o) => ({
      dtype: o.dtype,
      shape: [...o.shape],
      strides: contiguousStrides(o.shape),
      offset: 0,
      handle: this.allocHandle(sizeOf(o.shape)),
    }));
    const [x, y, z] = program.dispatch;
    if (x * y * z === 0) return outputs;
    const pipeline = this.pipeline(program.key, program.source);
    const uni = new Int32Array(Math.max(4, program.uniforms.length));
    uni.set(program.uniforms);
    const uniBuf = this.device.createBuffer({ size: Math.ceil(uni.byteLength / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(uniBuf, 0, uni);
    const entries: GPUBindGroupEntry[] = [];
    let b = 0;
    for (const t of program.inputs) entries.push({ binding: b++, resource: { buffer: t.handle.buffer } });
    for (const t of outputs) entries.push({ binding: b++, resource: { buffer: t.handle.buffer } });
    entries.push({ binding: b, resource: { buffer: uniBuf } });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.device.queue.submit([enc.finish()]);
    uniBuf.destroy();
    return outputs;
  }
}

// ---- dtype conversion for upload/download ------------------------------------------------

/** Copy 64-bit integers into 32-bit words, refusing values outside [min, max] (GPUs have no 64-bit integers). */
function narrow64<T extends Int32Array | Uint32Array>(v: BigInt64Array | BigUint64Array, out: T, min: bigint, max: bigint, what: string): T {
  for (let i = 0; i < out.length; i++) {
    const x = v[i]!;
    if (x > max || x < min) throw new DTypeError(`webgpu stores ${what}; element ${i} (${x}) does not fit`);
    out[i] = Number(x);
  }
  return out;
}

function toGpuWords(dtype: DType, values: StorageArray, size: number): Float32Array | Int32Array | Uint32Array {
  switch (dtype) {
    case 'float32':
      return (values as Float32Array).subarray(0, size);
    case 'float16': {
      const out = new Float32Array(size);
      const v = values as Uint16Array;
      for (let i = 0; i < size; i++) out[i] = float16BitsToFloat32(v[i]!);
      return out;
    }
    case 'int32':
      return (values as Int32Array).subarray(0, size);
    case 'int64':
      return narrow64(values as BigInt64Array, new Int32Array(size), -2147483648n, 2147483647n, 'int64 as int32');
    case 'float64':
      return Float32Array.from((values as Float64Array).subarray(0, size));
    case 'bfloat16': {
      const out = new Float32Array(size);
      const v = values as Uint16Array;
      for (let i = 0; i < size; i++) out[i] = bfloat16BitsToFloat32(v[i]!);
      return out;
    }
    case 'uint32':
      return (values as Uint32Array).subarray(0, size);
    case 'uint64':
      return narrow64(values as BigUint64Array, new Uint32Array(size), 0n, 4294967295n, 'uint64 as uint32');
    default:
      if (isPacked(dtype)) return unpackToInt32(dtype, values as Uint8Array, size);
      return Int32Array.from(values as Int8Array | Uint8Array | Int16Array | Uint16Array);
  }
}

function fromGpuWords(dtype: DType, words: Uint32Array, size: number): StorageArray {
  const f = new Float32Array(words.buffer, words.byteOffset, size);
  const i = new Int32Array(words.buffer, words.byteOffset, size);
  switch (dtype) {
    case 'float32':
      return f.slice();
    case 'float16': {
      const out = new Uint16Array(size);
      float32BitsToFloat16(words.subarray(0, size), out);
      return out;
    }
    case 'int32':
      return i.slice();
    case 'int64': {
      const out = new BigInt64Array(size);
      for (let k = 0; k < size; k++) out[k] = BigInt(i[k]!);
      return out;
    }
    case 'float64':
      return Float64Array.from(f);
    case 'bfloat16': {
      const out = new Uint16Array(size);
      for (let k = 0; k < size; k++) out[k] = float32ToBfloat16Bits(f[k]!);
      return out;
    }
    case 'uint32':
      return words.slice(0, size);
    case 'uint64': {
      const out = new BigUint64Array(size);
      for (let k = 0; k < size; k++) out[k] = BigInt(words[k]!);
      return out;
    }
    default: {
      if (isPacked(dtype)) return packFromInt32(dtype, i);
      const out = allocStorage(dtype, size) as Int8Array;
      for (let k = 0; k < size; k++) out[k] = i[k]!;
      return out.length === storageLength(dtype, size) ? out : out;
    }
  }
}
