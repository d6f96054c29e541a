import type { KernelConfig } from '../../../backend.js';
import { allocStorage, isPacked, type StorageArray } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, type CpuHandle, cpuValues } from '../backend.js';
import { gatherStrided } from '../strided.js';
import { axisDims, encodeNumbers, numericStorage } from './numeric.js';

/** Concat(axis) of any number of same-dtype inputs. */
export const concatKernel: KernelConfig<CpuBackend, 'Concat'> = {
  name: 'Concat',
  backend: 'cpu',
  run(inputs, attrs, backend) {
    const axis = attrs.axis;
    const first = inputs[0]!;
    const total = inputs.reduce((p, t) => p + t.shape[axis]!, 0);
    const shape = first.shape.map((d, i) => (i === axis ? total : d));
    const { outer, inner } = axisDims(shape, axis);
    const packed = isPacked(first.dtype);
    const out = packed ? new Float64Array(sizeOf(shape)) : allocStorage(first.dtype, sizeOf(shape));
    let at = 0;
    for (const t of inputs) {
      const len = t.shape[axis]! * inner;
      const src = packed ? (numericStorage(t) as Float64Array) : cpuValues<StorageArray>(t);
      for (let o = 0; o < outer; o++) {
        (out as Float64Array).set((src as Float64Array).subarray(o * len, (o + 1) * len), o * total * inner + at);
      }
      at += len;
    }
    return [backend.output(first.dtype, shape, packed ? encodeNumbers(first.dtype, out as Float64Array) : (out as StorageArray))];
  },
};

/** Slice copy: the input read with attrs.offset/strides over attrs.shape (steps may be negative). */
export const sliceKernel: KernelConfig<CpuBackend, 'Slice'> = {
  name: 'Slice',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const starts = attrs.starts;
    const steps = attrs.steps;
    const shape = attrs.shape;
    const offset = x!.offset + starts.reduce((p, s, i) => p + s * x!.strides[i]!, 0);
    const view = { dtype: x!.dtype, shape, strides: x!.strides.map((s, i) => s * steps[i]!), offset, handle: x!.handle as CpuHandle };
    return [backend.output(x!.dtype, shape, gatherStrided(view))];
  },
};

export const concatCpuKernels: KernelConfig<CpuBackend>[] = [concatKernel, sliceKernel];
