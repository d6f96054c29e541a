import type { OpFamily } from '../family.js';

/** (being written) */
export const matmulFamily: OpFamily = { name: 'matmul', kernels: [], gradients: {} };
