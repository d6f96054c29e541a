import type { KernelConfig } from '../../../backend.js';
import { allocStorage } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { forEachStrided } from '../strided.js';
import { mapStrided } from './unary.js';

/**
 * Clip(x; min, max) with `attrs.min` / `attrs.max` numbers or undefined (unbounded). NaN passes
 * through; when min > max every element becomes max (as numpy.clip and the ONNX reference).
 */
export const clipKernel: KernelConfig<CpuBackend, 'Clip'> = {
  name: 'Clip',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const xs = x!;
    const lo = attrs.min;
    const hi = attrs.max;
    if (xs.dtype === 'int64') {
      // compare as BigInt so values beyond 2^53 stay exact
      const src = cpuValues<BigInt64Array>(xs);
      const out = allocStorage('int64', sizeOf(xs.shape)) as BigInt64Array;
      const l = lo === undefined ? null : BigInt(lo);
      const h = hi === undefined ? null : BigInt(hi);
      forEachStrided(xs.shape, xs.strides, xs.offset, (s, d) => {
        let v = src[s]!;
        if (l !== null && v < l) v = l;
        if (h !== null && v > h) v = h;
        out[d] = v;
      });
      return [backend.output('int64', xs.shape, out)];
    }
    const l = lo ?? -Infinity;
    const h = hi ?? Infinity;
    const values = mapStrided(xs, xs.dtype, (v) => {
      const a = v < l ? l : v;
      return a > h ? h : a;
    });
    return [backend.output(xs.dtype, xs.shape, values)];
  },
};
