import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { axisDims, encodeNumbers, numericStorage } from './numeric.js';

function makeSoftmax(name: 'Softmax' | 'LogSoftmax'): KernelConfig<CpuBackend, 'Softmax' | 'LogSoftmax'> {
  return {
    name,
    backend: 'cpu',
    run([x], attrs, backend) {
      const { outer, d, inner } = axisDims(x!.shape, attrs.axis);
      const v = numericStorage(x!);
      const out = new Float64Array(outer * d * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * d * inner + i;
          let m = -Infinity;
          for (let j = 0; j < d; j++) m = Math.max(m, v[base + j * inner]!);
          let s = 0;
          for (let j = 0; j < d; j++) s += Math.exp(v[base + j * inner]! - m);
          const ls = Math.log(s);
          for (let j = 0; j < d; j++) {
            const k = base + j * inner;
            out[k] = name === 'Softmax' ? Math.exp(v[k]! - m) / s : v[k]! - m - ls;
          }
        }
      }
      return [backend.output(x!.dtype, x!.shape, encodeNumbers(x!.dtype, out))];
    },
  };
}

/** Softmax / LogSoftmax along one axis (opset 13), max-subtracted. */
export const softmaxCpuKernels: KernelConfig<CpuBackend, 'Softmax' | 'LogSoftmax'>[] = [makeSoftmax('Softmax'), makeSoftmax('LogSoftmax')];
