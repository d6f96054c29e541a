import type { KernelConfig, TensorInfo } from '../../../backend.js';
import { float16BitsToFloat32, type StorageArray } from '../../../dtype.js';
import { broadcastStrides } from '../../../shape.js';
import { forEachStrided } from '../strided.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { accumulator, batchedMatmulInto, finishOutput, matmulShape } from '../matmul_batched.js';

/** Y = alpha * opA(A) @ opB(B) + beta * C (ONNX Gemm; C unidirectionally broadcast to [M, N]). */
export const gemmKernel: KernelConfig<CpuBackend, 'Gemm'> = {
  name: 'Gemm',
  backend: 'cpu',
  strided: true,
  run([a, b, c], attrs, backend) {
    const { transA, transB, alpha, beta } = attrs;
    const shape = matmulShape(a!, b!, transA, transB);
    const acc = accumulator(a!.dtype, shape[0]! * shape[1]!);
    const withC = !!c && beta !== 0;
    if (withC) fillBeta(acc, c, shape, beta);
    batchedMatmulInto(a!, b!, transA, transB, alpha, acc, !withC);
    return [backend.output(a!.dtype, shape, finishOutput(a!.dtype, acc))];
  },
};

/** acc[i] = beta * C broadcast to `shape` (any strides). */
function fillBeta(acc: StorageArray, c: TensorInfo, shape: number[], beta: number): void {
  const strides = broadcastStrides(c.shape, c.strides, shape);
  const cv = cpuValues<StorageArray>(c);
  if (c.dtype === 'float32' && strides[1] === 0) {
    // a per-row value (conv2d's bias as [M, 1]): one fill per row instead of a visit per element
    const [M, N] = shape as [number, number];
    for (let i = 0; i < M; i++) (acc as Float32Array).fill(beta * (cv as Float32Array)[c.offset + i * strides[0]!]!, i * N, (i + 1) * N);
    return;
  }
  const half = c.dtype === 'float16';
  const int = c.dtype === 'int32';
  const out = acc as Float32Array;
  forEachStrided(shape, strides, c.offset, (s, d) => {
    const v = half ? float16BitsToFloat32((cv as Uint16Array)[s]!) : (cv as Float32Array)[s]!;
    out[d] = int ? Math.trunc(beta * v) : beta * v;
  });
}
