import type { KernelConfig } from '../../../backend.js';
import { type DType, allocStorage } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { forEachStrided } from '../strided.js';

/** How a reduction folds values: start value, step, and the final map (n = reduced count). */
export interface Reducer {
  readonly init: number;
  readonly step: (acc: number, v: number) => number;
  readonly finish?: (acc: number, n: number) => number;
  readonly outDtype?: DType;
}

/**
 * A reduction kernel over `attrs.axes` (normalized, sorted) with `attrs.keepDims`. Reads any
 * strides; accumulates in float64.
 */
export function makeReduceKernel(name: string, r: Reducer): KernelConfig<CpuBackend> {
  return {
    name,
    backend: 'cpu',
    strided: true,
    run([x], attrs, backend) {
      const axes = attrs.axes as number[];
      const keepDims = attrs.keepDims as boolean;
      const xs = x!;
      const keptShape: number[] = [];
      const keptStrides: number[] = [];
      const redShape: number[] = [];
      const redStrides: number[] = [];
      xs.shape.forEach((d, i) => {
        if (axes.includes(i)) {
          redShape.push(d);
          redStrides.push(xs.strides[i]!);
        } else {
          keptShape.push(d);
          keptStrides.push(xs.strides[i]!);
        }
      });
      const outShape = keepDims ? xs.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptShape;
      const dtype = r.outDtype ?? xs.dtype;
      const out = allocStorage(dtype, sizeOf(outShape)) as Float32Array;
      const v = cpuValues(xs);
      const n = sizeOf(redShape);
      forEachStrided(keptShape, keptStrides, xs.offset, (base, o) => {
        let acc = r.init;
        forEachStrided(redShape, redStrides, base, (s) => {
          acc = r.step(acc, v[s]!);
        });
        out[o] = r.finish ? r.finish(acc, n) : acc;
      });
      return [backend.output(dtype, outShape, out)];
    },
  };
}

export const reduceCpuKernels: KernelConfig<CpuBackend>[] = [
  makeReduceKernel('ReduceSum', { init: 0, step: (a, v) => a + v }),
];
