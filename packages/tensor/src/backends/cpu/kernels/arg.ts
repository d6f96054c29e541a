import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { axisDims, numericStorage } from './numeric.js';

function makeArg(name: 'ArgMax' | 'ArgMin'): KernelConfig<CpuBackend, 'ArgMax' | 'ArgMin'> {
  const better = name === 'ArgMax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  return {
    name,
    backend: 'cpu',
    run([x], attrs, backend) {
      const axis = attrs.axis;
      const last = attrs.selectLastIndex;
      const { outer, d, inner } = axisDims(x!.shape, axis);
      const v = numericStorage(x!);
      const out = new BigInt64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * d * inner + i;
          let best = 0;
          let bv = v[base]!;
          for (let j = 1; j < d; j++) {
            const c = v[base + j * inner]!;
            if (better(c, bv) || (last && c === bv)) {
              best = j;
              bv = c;
            }
          }
          out[o * inner + i] = BigInt(best);
        }
      }
      const shape = x!.shape.map((s, i) => (i === axis ? 1 : s));
      return [backend.output('int64', attrs.keepDims ? shape : shape.filter((_, i) => i !== axis), out)];
    },
  };
}

/** ArgMax / ArgMin along one axis (first or last index of ties) → int64. */
export const argCpuKernels: KernelConfig<CpuBackend, 'ArgMax' | 'ArgMin'>[] = [makeArg('ArgMax'), makeArg('ArgMin')];
