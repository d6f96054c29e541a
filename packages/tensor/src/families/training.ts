import type { OpFamily } from '../family.js';
import { adamUpdateKernel as cpuAdam } from '../backends/cpu/kernels/AdamUpdate.js';
import { sgdUpdateKernel as cpuSgd } from '../backends/cpu/kernels/SgdUpdate.js';
import { adamUpdateKernel as gpuAdam } from '../backends/webgpu/kernels/AdamUpdate.js';
import { sgdUpdateKernel as gpuSgd } from '../backends/webgpu/kernels/SgdUpdate.js';

/**
 * Training support: the fused optimizer update kernels (AdamUpdate, SgdUpdate; not
 * differentiable). Optimizers, losses, initializers and linalg are re-exported below.
 */
export const trainingFamily: OpFamily = {
  name: 'training',
  kernels: [cpuAdam, cpuSgd, gpuAdam, gpuSgd],
  gradients: {},
};

export * from '../linalg/matrix.js';
export * from '../linalg/qr.js';
export * from '../linalg/svd.js';
export * from '../linalg/randomized_svd.js';
export * from '../linalg/symmetric_eigen.js';
export * from '../linalg/gram_svd.js';
export * from '../linalg/cholesky.js';
export * from '../linalg/tensor.js';
export { Optimizer, assign } from '../optim/optimizer.js';
export * from '../optim/sgd.js';
export * from '../optim/adam.js';
export type { Reduction } from '../losses/reduction.js';
export * from '../losses/cross_entropy.js';
export * from '../losses/kl_divergence.js';
export * from '../losses/mse.js';
export * from '../init.js';
