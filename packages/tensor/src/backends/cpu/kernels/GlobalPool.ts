import type { KernelConfig } from '../../../backend.js';
import { allocStorage, isFloat } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';

/** Average (or max) over every axis after the first two: [N, C, ...] → [N, C, 1, ...]. */
function globalPool<N extends 'GlobalAveragePool' | 'GlobalMaxPool'>(name: N, max: boolean): KernelConfig<CpuBackend, N> {
  return {
    name,
    backend: 'cpu',
    run([x], _attrs, backend) {
      const shape = x!.shape;
      const rows = shape[0]! * shape[1]!;
      const S = sizeOf(shape.slice(2));
      const src = floatStorage(x!);
      const float = isFloat(x!.dtype);
      const out = float ? new Float32Array(rows) : (allocStorage(x!.dtype, rows) as Float32Array);
      for (let r = 0, p = 0; r < rows; r++) {
        let acc = max ? -Infinity : 0;
        for (let k = 0; k < S; k++, p++) {
          const v = src[p]!;
          if (max) acc = v > acc || Number.isNaN(v) ? v : acc;
          else acc += v;
        }
        out[r] = max ? acc : acc / S;
      }
      const outShape = shape.map((d, i) => (i < 2 ? d : 1));
      return [float ? floatOutput(backend, x!.dtype, outShape, out) : backend.output(x!.dtype, outShape, out)];
    },
  };
}

export const globalAveragePoolKernel = globalPool('GlobalAveragePool', false);
export const globalMaxPoolKernel = globalPool('GlobalMaxPool', true);
