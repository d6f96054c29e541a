import type { OpFamily } from '../family.js';

/** (being written) */
export const indexingFamily: OpFamily = { name: 'indexing', kernels: [], gradients: {} };
