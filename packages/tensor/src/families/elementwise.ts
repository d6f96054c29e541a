import type { OpFamily } from '../family.js';

/** (being written) */
export const elementwiseFamily: OpFamily = { name: 'elementwise', kernels: [], gradients: {} };
