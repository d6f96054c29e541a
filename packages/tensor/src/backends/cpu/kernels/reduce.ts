import type { KernelConfig } from '../../../backend.js';
import type { ReduceKernelName } from '../../../kernel_names.js';
import type { DType } from '../../../dtype.js';
import { isContiguous, sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { forEachStrided } from '../strided.js';
import { encodeNumbers, numericStorage } from './numeric.js';
import { sumContiguous } from './reduce_sum_fast.js';

/**
 * How a reduction folds values: start value, step, and the final map (n = reduced count).
 * `row` (when given) replaces init/step/finish and sees the whole reduced row at once.
 */
export interface Reducer {
  readonly init: number;
  readonly step: (acc: number, v: number) => number;
  readonly finish?: (acc: number, n: number) => number;
  readonly row?: (values: Float64Array) => number;
  readonly outDtype?: DType;
  /** The fold is a plain float64 sum (then `finish`): contiguous inputs may use {@link sumContiguous}. */
  readonly sum?: true;
}

/** Split a shape into kept and reduced dims (with their strides). */
export function splitAxes(shape: readonly number[], strides: readonly number[], axes: readonly number[]) {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      redShape.push(d);
      redStrides.push(strides[i]!);
    } else {
      keptShape.push(d);
      keptStrides.push(strides[i]!);
    }
  });
  return { keptShape, keptStrides, redShape, redStrides };
}

/**
 * A reduction kernel over `attrs.axes` (normalized, sorted) with `attrs.keepDims`. Reads any
 * strides and any numeric dtype; accumulates in float64; float16 results are rounded.
 */
export function makeReduceKernel(name: ReduceKernelName, r: Reducer): KernelConfig<CpuBackend, ReduceKernelName> {
  return {
    name,
    backend: 'cpu',
    strided: true,
    run([x], attrs, backend) {
      const axes = attrs.axes;
      const keepDims = attrs.keepDims;
      const xs = x!;
      const { keptShape, keptStrides, redShape, redStrides } = splitAxes(xs.shape, xs.strides, axes);
      const outShape = keepDims ? xs.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptShape;
      const dtype = r.outDtype ?? xs.dtype;
      const out = new Float64Array(sizeOf(outShape));
      const v = numericStorage(xs);
      const n = sizeOf(redShape);
      const fast = r.sum && isContiguous(xs.shape, xs.strides) ? sumContiguous(v, xs.offset, xs.shape, axes) : null;
      if (fast) {
        if (r.finish) for (let i = 0; i < fast.length; i++) fast[i] = r.finish(fast[i]!, n);
        return [backend.output(dtype, outShape, encodeNumbers(dtype, fast))];
      }
      const rowBuf = r.row ? new Float64Array(n) : null;
      forEachStrided(keptShape, keptStrides, xs.offset, (base, o) => {
        if (rowBuf) {
          forEachStrided(redShape, redStrides, base, (s, k) => {
            rowBuf[k] = v[s]!;
          });
          out[o] = r.row!(rowBuf);
          return;
        }
        let acc = r.init;
        forEachStrided(redShape, redStrides, base, (s) => {
          acc = r.step(acc, v[s]!);
        });
        out[o] = r.finish ? r.finish(acc, n) : acc;
      });
      return [backend.output(dtype, outShape, encodeNumbers(dtype, out))];
    },
  };
}

/** Numerically stable log(sum(exp(v))). */
export function logSumExpRow(v: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i]! > m || Number.isNaN(v[i]!)) m = v[i]!;
  if (!Number.isFinite(m)) return m === -Infinity || Number.isNaN(m) ? m : Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - m);
  return m + Math.log(s);
}

const maxStep = (a: number, v: number): number => (v > a || Number.isNaN(v) ? v : a);
const minStep = (a: number, v: number): number => (v < a || Number.isNaN(v) ? v : a);

/** All reduction cpu kernels (ReduceSum is used by core; the rest by the indexing family). */
export const reduceCpuKernels: KernelConfig<CpuBackend, ReduceKernelName>[] = [
  makeReduceKernel('ReduceSum', { init: 0, step: (a, v) => a + v, sum: true }),
  makeReduceKernel('ReduceMean', { init: 0, step: (a, v) => a + v, finish: (a, n) => a / n, sum: true }),
  makeReduceKernel('ReduceMax', { init: -Infinity, step: maxStep }),
  makeReduceKernel('ReduceMin', { init: Infinity, step: minStep }),
  makeReduceKernel('ReduceProd', { init: 1, step: (a, v) => a * v }),
  makeReduceKernel('ReduceL1', { init: 0, step: (a, v) => a + Math.abs(v) }),
  makeReduceKernel('ReduceL2', { init: 0, step: (a, v) => a + v * v, finish: (a) => Math.sqrt(a) }),
  makeReduceKernel('ReduceSumSquare', { init: 0, step: (a, v) => a + v * v }),
  makeReduceKernel('ReduceLogSumExp', { init: 0, step: (a) => a, row: logSumExpRow }),
];
