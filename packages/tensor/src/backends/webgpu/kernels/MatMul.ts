import type { KernelConfig } from '../../../backend.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { matmulProgram } from './matmul_program.js';

/** Batched, broadcasting MatMul as a tiled WGSL kernel (strided operands, transposes via uniforms). */
export const matMulKernel: KernelConfig<WebGpuBackend, 'MatMul'> = {
  name: 'MatMul',
  backend: 'webgpu',
  strided: true,
  run([a, b], attrs, backend) {
    return backend.runProgram(matmulProgram({ a: a as GpuTensor, b: b as GpuTensor, transA: !!attrs.transA, transB: !!attrs.transB, name: 'MatMul' }));
  },
};
