import type { KernelConfig } from '../../../backend.js';
import { type CpuBackend, type CpuHandle } from '../backend.js';
import { gatherStrided } from '../strided.js';
import type { TensorInfo } from '../../../backend.js';

/** Materialize a strided view as contiguous storage. */
export const contiguousKernel: KernelConfig<CpuBackend, 'Contiguous'> = {
  name: 'Contiguous',
  backend: 'cpu',
  strided: true,
  run([x], _attrs, backend) {
    const info = x as TensorInfo<CpuHandle>;
    return [backend.output(info.dtype, info.shape, gatherStrided(info))];
  },
};
