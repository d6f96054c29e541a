import type { KernelConfig } from '../../../backend.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { matmulProgram } from './matmul_program.js';

/** ONNX Gemm: the tiled matmul program with an alpha/beta·C epilogue (C broadcast via strides). */
export const gemmKernel: KernelConfig<WebGpuBackend, 'Gemm'> = {
  name: 'Gemm',
  backend: 'webgpu',
  strided: true,
  run([a, b, c], attrs, backend) {
    const alpha = attrs.alpha ?? 1;
    const beta = attrs.beta ?? 1;
    return backend.runProgram(
      matmulProgram({
        a: a as GpuTensor,
        b: b as GpuTensor,
        transA: !!attrs.transA,
        transB: !!attrs.transB,
        gemm: { alpha, beta, c: (c as GpuTensor | undefined) ?? null },
        name: 'Gemm',
      }),
    );
  },
};
