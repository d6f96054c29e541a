import type { OpFamily } from '../family.js';
import { unaryCpuKernels } from '../backends/cpu/kernels/unary.js';
import { unaryWebGpuKernels } from '../backends/webgpu/kernels/unary.js';
import { clipKernel as cpuClip } from '../backends/cpu/kernels/Clip.js';
import { clipKernel as gpuClip } from '../backends/webgpu/kernels/Clip.js';
import { whereKernel as cpuWhere } from '../backends/cpu/kernels/Where.js';
import { whereKernel as gpuWhere } from '../backends/webgpu/kernels/Where.js';
import { castKernel as cpuCast } from '../backends/cpu/kernels/Cast.js';
import { castKernel as gpuCast } from '../backends/webgpu/kernels/Cast.js';
import { elementwiseGradients } from '../autograd/gradients/elementwise.js';

/**
 * Element-wise ops: the unary math/activation table (Neg … Softplus, Not), Clip, Where and
 * Cast on cpu and webgpu, their gradients, and the gradients of Pow, Max and Min.
 */
export const elementwiseFamily: OpFamily = {
  name: 'elementwise',
  kernels: [...unaryCpuKernels, ...unaryWebGpuKernels, cpuClip, gpuClip, cpuWhere, gpuWhere, cpuCast, gpuCast],
  gradients: elementwiseGradients,
};

export {
  neg, abs, exp, log, sqrt, reciprocal, sin, cos, floor, ceil, round, sign, relu, sigmoid, tanh, erf, gelu,
  leakyRelu, hardSigmoid, hardSwish, softplus, logicalNot, type GeluOptions,
} from '../ops/unary.js';
export * from '../ops/clip.js';
export * from '../ops/where.js';
export * from '../ops/cast.js';
export * from '../ops/scalar.js';
