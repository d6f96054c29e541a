import type { OpFamily } from '../family.js';

/** (being written) */
export const convFamily: OpFamily = { name: 'conv', kernels: [], gradients: {} };
