import type { KernelConfig } from '../../../backend.js';
import { allocStorage } from '../../../dtype.js';
import { contiguousStrides, sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { forEachStrided } from '../strided.js';

/** Zeros of `attrs.inputShape` with `dy` written at starts + i*steps (gradient of a slice). */
export const scatterSliceKernel: KernelConfig<CpuBackend, 'ScatterSlice'> = {
  name: 'ScatterSlice',
  backend: 'cpu',
  run([dy], attrs, backend) {
    const shape = attrs.inputShape;
    const starts = attrs.starts;
    const steps = attrs.steps;
    const out = allocStorage(dy!.dtype, sizeOf(shape)) as Float32Array;
    const base = contiguousStrides(shape);
    const offset = starts.reduce((p, s, i) => p + s * base[i]!, 0);
    const strides = base.map((b, i) => b * steps[i]!);
    const v = cpuValues(dy!);
    forEachStrided(dy!.shape, strides, offset, (dst, src) => {
      out[dst] = v[src]!;
    });
    return [backend.output(dy!.dtype, shape, out)];
  },
};
