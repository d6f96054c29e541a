import type { OpFamily } from '../family.js';
import { argCpuKernels } from '../backends/cpu/kernels/arg.js';
import { argWebGpuKernels } from '../backends/webgpu/kernels/arg.js';
import { softmaxCpuKernels } from '../backends/cpu/kernels/softmax.js';
import { softmaxWebGpuKernels } from '../backends/webgpu/kernels/softmax.js';
import { gatherCpuKernels } from '../backends/cpu/kernels/gather.js';
import { gatherWebGpuKernels } from '../backends/webgpu/kernels/gather.js';
import { concatCpuKernels } from '../backends/cpu/kernels/concat.js';
import { concatWebGpuKernels } from '../backends/webgpu/kernels/concat.js';
import { topkCpuKernels } from '../backends/cpu/kernels/topk.js';
import { topkWebGpuKernels } from '../backends/webgpu/kernels/topk.js';
import { quantizeCpuKernels } from '../backends/cpu/kernels/quantize.js';
import { quantizeWebGpuKernels } from '../backends/webgpu/kernels/quantize.js';
import { reduceCpuKernels } from '../backends/cpu/kernels/reduce.js';
import { reduceWebGpuKernels } from '../backends/webgpu/kernels/reduce.js';
import { indexingGradients } from '../autograd/gradients/indexing.js';

/**
 * Reductions (Mean, Max, Min, Prod, LogSumExp, L1, L2, SumSquare; ReduceSum itself is core),
 * ArgMax/ArgMin, Softmax/LogSoftmax, Gather, GatherElements, ScatterElements, Concat, Split,
 * Slice, TopK, OneHot and Quantize/DequantizeLinear (+ DynamicQuantizeLinear) on cpu and webgpu,
 * with the gradients of the differentiable ones.
 */
export const indexingFamily: OpFamily = {
  name: 'indexing',
  kernels: [
    ...[...reduceCpuKernels, ...reduceWebGpuKernels].filter((k) => k.name !== 'ReduceSum'),
    ...argCpuKernels,
    ...argWebGpuKernels,
    ...softmaxCpuKernels,
    ...softmaxWebGpuKernels,
    ...gatherCpuKernels,
    ...gatherWebGpuKernels,
    ...concatCpuKernels,
    ...concatWebGpuKernels,
    ...topkCpuKernels,
    ...topkWebGpuKernels,
    ...quantizeCpuKernels,
    ...quantizeWebGpuKernels,
  ],
  gradients: indexingGradients,
};

export * from '../ops/reduce_ext.js';
export * from '../ops/arg.js';
export * from '../ops/softmax.js';
export * from '../ops/gather.js';
export * from '../ops/concat.js';
export * from '../ops/slice_copy.js';
export * from '../ops/topk.js';
export * from '../ops/quantize.js';
