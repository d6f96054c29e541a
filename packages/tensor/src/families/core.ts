import type { OpFamily } from '../family.js';
import { contiguousKernel as cpuContiguous } from '../backends/cpu/kernels/Contiguous.js';
import { contiguousKernel as gpuContiguous } from '../backends/webgpu/kernels/Contiguous.js';
import { scatterSliceKernel as cpuScatterSlice } from '../backends/cpu/kernels/ScatterSlice.js';
import { scatterSliceKernel as gpuScatterSlice } from '../backends/webgpu/kernels/ScatterSlice.js';
import { reduceCpuKernels } from '../backends/cpu/kernels/reduce.js';
import { reduceWebGpuKernels } from '../backends/webgpu/kernels/reduce.js';
import { binaryCpuKernels } from '../backends/cpu/kernels/binary.js';
import { binaryWebGpuKernels } from '../backends/webgpu/kernels/binary.js';
import { reshape, transpose, sliceView } from '../ops/views.js';
import { reduceToShape } from '../autograd/reduce_to_shape.js';
import { scatterSlice } from '../ops/slice.js';
import { expand } from '../ops/views.js';
import { binaryGradients } from '../autograd/gradients/binary.js';

/**
 * Storage-level ops every other family leans on: contiguous copies, views and their gradients,
 * ScatterSlice, ReduceSum and the broadcasting binary kernels.
 */
export const coreFamily: OpFamily = {
  name: 'core',
  kernels: [cpuContiguous, gpuContiguous, cpuScatterSlice, gpuScatterSlice, ...[...reduceCpuKernels, ...reduceWebGpuKernels].filter((k) => k.name === 'ReduceSum'), ...binaryCpuKernels, ...binaryWebGpuKernels],
  gradients: {
    ...binaryGradients,
    Contiguous: ([dy]) => [dy],
    Reshape: ([dy], { inputs }) => [reshape(dy!, inputs[0]!.shape)],
    Transpose: ([dy], { attrs }) => {
      const perm = attrs.perm;
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return [transpose(dy!, inv)];
    },
    Expand: ([dy], { inputs }) => [reduceToShape(dy!, inputs[0]!.shape)],
    SliceView: ([dy], { attrs }) => [
      scatterSlice(dy!, attrs.inputShape, attrs.starts, attrs.steps),
    ],
    ScatterSlice: ([dy], { attrs, inputs }) => {
      const starts = attrs.starts;
      const steps = attrs.steps;
      const shape = inputs[0]!.shape;
      return [sliceView(dy!, starts, starts.map((s, i) => s + (shape[i]! - 1) * steps[i]! + 1), steps)];
    },
    ReduceSum: ([dy], { inputs, attrs }) => {
      const x = inputs[0]!;
      const axes = attrs.axes;
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return [expand(reshape(dy!, kept), x.shape)];
    },
  },
};
