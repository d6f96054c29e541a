import type { OpFamily } from '../family.js';
import { matMulKernel as cpuMatMul } from '../backends/cpu/kernels/MatMul.js';
import { gemmKernel as cpuGemm } from '../backends/cpu/kernels/Gemm.js';
import { matMulKernel as gpuMatMul } from '../backends/webgpu/kernels/MatMul.js';
import { gemmKernel as gpuGemm } from '../backends/webgpu/kernels/Gemm.js';
import { matmulGradients } from '../autograd/gradients/matmul.js';

/** Matrix products: MatMul (batched, numpy broadcasting) and Gemm, on cpu (JS / WASM SIMD) and webgpu. */
export const matmulFamily: OpFamily = {
  name: 'matmul',
  kernels: [cpuMatMul, cpuGemm, gpuMatMul, gpuGemm],
  gradients: matmulGradients,
};

export * from '../ops/matmul.js';
export * from '../ops/gemm.js';
