import type { OpFamily } from '../family.js';
import { im2colKernel as cpuIm2Col } from '../backends/cpu/kernels/Im2Col.js';
import { conv2dFusedKernel as cpuConv2dFused } from '../backends/cpu/kernels/Conv2dFused.js';
import { col2imKernel as cpuCol2Im } from '../backends/cpu/kernels/Col2Im.js';
import { maxPoolKernel as cpuMaxPool, maxUnpoolAddKernel as cpuMaxUnpoolAdd } from '../backends/cpu/kernels/MaxPool.js';
import { averagePoolKernel as cpuAveragePool } from '../backends/cpu/kernels/AveragePool.js';
import { globalAveragePoolKernel as cpuGlobalAvg, globalMaxPoolKernel as cpuGlobalMax } from '../backends/cpu/kernels/GlobalPool.js';
import { batchNormKernel as cpuBatchNorm } from '../backends/cpu/kernels/BatchNormalization.js';
import { padKernel as cpuPad, padAdjointKernel as cpuPadAdjoint } from '../backends/cpu/kernels/Pad.js';
import { im2colKernel as gpuIm2Col } from '../backends/webgpu/kernels/Im2Col.js';
import { col2imKernel as gpuCol2Im } from '../backends/webgpu/kernels/Col2Im.js';
import { maxPoolKernel as gpuMaxPool, maxUnpoolAddKernel as gpuMaxUnpoolAdd } from '../backends/webgpu/kernels/MaxPool.js';
import { averagePoolKernel as gpuAveragePool } from '../backends/webgpu/kernels/AveragePool.js';
import { globalAveragePoolKernel as gpuGlobalAvg, globalMaxPoolKernel as gpuGlobalMax } from '../backends/webgpu/kernels/GlobalPool.js';
import { batchNormKernel as gpuBatchNorm } from '../backends/webgpu/kernels/BatchNormalization.js';
import { padKernel as gpuPad, padAdjointKernel as gpuPadAdjoint } from '../backends/webgpu/kernels/Pad.js';
import { convGradients } from '../autograd/gradients/conv.js';

/**
 * Convolution family (NCHW): Im2Col/Col2Im (conv2d and convTranspose2d are built on them and
 * matmul), max/average/global pooling, inference batch normalization and Pad.
 */
export const convFamily: OpFamily = {
  name: 'conv',
  kernels: [
    cpuIm2Col, cpuConv2dFused, cpuCol2Im, cpuMaxPool, cpuMaxUnpoolAdd, cpuAveragePool, cpuGlobalAvg, cpuGlobalMax, cpuBatchNorm, cpuPad, cpuPadAdjoint,
    gpuIm2Col, gpuCol2Im, gpuMaxPool, gpuMaxUnpoolAdd, gpuAveragePool, gpuGlobalAvg, gpuGlobalMax, gpuBatchNorm, gpuPad, gpuPadAdjoint,
  ],
  gradients: convGradients,
};

export type { Window2d, WindowNd, WindowOptions } from '../ops/window.js';
export { poolOutputSize } from '../ops/window.js';
export { im2col, col2im, type Im2ColOptions } from '../ops/im2col.js';
export { conv2d, type Conv2dOptions } from '../ops/conv2d.js';
export { convTranspose2d, type ConvTranspose2dOptions } from '../ops/conv_transpose2d.js';
export { convTransposeNd, type ConvTransposeNdOptions } from '../ops/conv_transpose_nd.js';
export { maxPoolNd, avgPoolNd, type PoolNdOptions, type AvgPoolNdOptions } from '../ops/pool_nd.js';
export { maxPool2d, maxUnpoolAdd, avgPool2d, globalAvgPool, globalMaxPool, type Pool2dOptions, type AvgPool2dOptions } from '../ops/pool.js';
export { batchNorm } from '../ops/batch_norm.js';
export { pad, padAdjoint, type PadMode } from '../ops/pad.js';
