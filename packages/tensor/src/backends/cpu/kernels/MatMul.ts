import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { accumulator, batchedMatmulInto, finishOutput, matmulShape } from '../matmul_batched.js';

/**
 * MatMul on rank ≥ 2 operands (the op reshapes 1-D ones): batch dims broadcast, `transA` /
 * `transB` swap the last two axes of an operand. Reads strided views directly (no copies).
 */
export const matMulKernel: KernelConfig<CpuBackend, 'MatMul'> = {
  name: 'MatMul',
  backend: 'cpu',
  strided: true,
  run([a, b], attrs, backend) {
    const { transA, transB } = attrs;
    const shape = matmulShape(a!, b!, transA, transB);
    const acc = accumulator(a!.dtype, sizeOf(shape));
    batchedMatmulInto(a!, b!, transA, transB, 1, acc, true);
    return [backend.output(a!.dtype, shape, finishOutput(a!.dtype, acc))];
  },
};
