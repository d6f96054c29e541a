/**
 * @whittle/tensor — tensors, kernels (JS and WebGPU), autograd, optimizers, losses, linalg.
 *
 * Importing this module registers every op family's kernels and gradients and the cpu backend;
 * the webgpu backend is registered too and becomes available with `await setBackend('webgpu')`
 * where the environment has WebGPU (in Node, import `@whittle/tensor/node`).
 * @module
 */
// The WebGPU backend's public types name GPUDevice/GPUBuffer: consumers get them from the
// @webgpu/types dependency through this directive, kept in dist/index.d.ts.
/// <reference types="@webgpu/types" preserve="true" />
import { engine } from './engine.js';
import { cpuBackend } from './backends/cpu/backend.js';
import { createWebGpuBackend } from './backends/webgpu/init.js';
import { registerFamily } from './family.js';
import { coreFamily } from './families/core.js';
import { elementwiseFamily } from './families/elementwise.js';
import { matmulFamily } from './families/matmul.js';
import { convFamily } from './families/conv.js';
import { indexingFamily } from './families/indexing.js';
import { trainingFamily } from './families/training.js';

engine().installBackend(cpuBackend());
engine().registerBackend('webgpu', createWebGpuBackend);
for (const f of [coreFamily, elementwiseFamily, matmulFamily, convFamily, indexingFamily, trainingFamily]) registerFamily(f);

export type { Backend, BackendName, DataHandle, KernelConfig, TensorInfo } from './backend.js';
export type { OpFamily } from './family.js';
export type { GradFn, GradContext, GradNode, GradientTable } from './autograd/node.js';
export * from './errors.js';
export * from './dtype.js';
export { decodeFloat16Bits, float16ToFloat32Array, float32BitsToFloat16 } from './float16_array.js';
export * from './float_formats/index.js';
export { encodeMinifloatBits, decodeMinifloat, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT4E2M1 } from './float_formats/minifloat.js';
export { encodeE8m0Bits } from './float_formats/e8m0.js';
export * from './shape.js';
export { Rng } from './rng.js';
export { GZIP_LEVEL, gzipSize } from './gzip_size.js';
export { wasmSgemmVariant, forceWasmSgemmVariant, type WasmSgemmVariant } from './wasm/sgemm_wasm.js';
export { Tensor } from './tensor.js';
export { Engine, engine } from './engine.js';
export { registerKernel, registerKernels, getKernel, hasKernel, listKernels } from './kernel_registry.js';
export {
  KERNEL_NAMES, VIEW_NAMES, UNARY_KERNEL_NAMES, REDUCE_KERNEL_NAMES, NOT_DIFFERENTIABLE, BACKEND_ONLY, isKernelName,
  type KernelAttrs, type KernelName, type ViewAttrs, type ViewName, type OpAttrs, type OpName, type NoAttrs,
  type BinaryKernelName, type UnaryKernelName, type PlainUnaryKernelName, type ReduceKernelName,
  type AdamAttrs, type SgdAttrs, type QuantScaleAttrs, type ReduceAttrs, type AxisAttrs, type SliceSpec,
} from './kernel_names.js';
export { registerGradient, getGradient, listGradients } from './autograd/gradient_registry.js';
export { registerFamily } from './family.js';
export { reduceToShape } from './autograd/reduce_to_shape.js';
export { CpuBackend, cpuBackend, cpuValues, type CpuHandle, type CpuTensor } from './backends/cpu/backend.js';
export { WebGpuBackend, type GpuHandle, type GpuProgram, type GpuTensor } from './backends/webgpu/backend.js';
export { setWebGpuProvider } from './backends/webgpu/init.js';
export * from './ops/creation.js';
export * from './ops/views.js';
export * from './ops/binary.js';
export * from './ops/reduce.js';
export * from './ops/slice.js';
export * from './api.js';
export * from './families/elementwise.js';
export * from './families/matmul.js';
export * from './families/conv.js';
export * from './families/indexing.js';
export * from './families/training.js';
export { fromNdarray, toNdarray } from './ndarray.js';
// float64 kernels of the Hessian-based compressors (GPTQ, SparseGPT); the rest of linalg is
// re-exported with the training family
export { inverseUpperCholesky } from './linalg/inverse_upper_cholesky.js';
export { lowerCholesky } from './linalg/lower_cholesky.js';
export { lowerTriangularInverse } from './linalg/lower_triangular_inverse.js';
