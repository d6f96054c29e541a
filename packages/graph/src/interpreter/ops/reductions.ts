import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/**
 * The Reduce* family from one factory. Axes are an attribute before the opset where they
 * became an input (ReduceSum 13, the others 18); keepdims defaults to 1; with no axes every
 * axis is reduced unless noop_with_empty_axes = 1 (then the input is returned). Reducing an
 * empty set gives the reduction's identity (0, 1, ±inf, NaN for the mean).
 */
type Reducer = (x: Tensor, axes: readonly number[] | undefined, keepDims: boolean) => Tensor;

const reducers: Record<string, [Reducer, number, number]> = {
  ReduceSum: [T.sum, 13, 0],
  ReduceMean: [T.mean, 18, NaN],
  ReduceMax: [T.max, 18, -Infinity],
  ReduceMin: [T.min, 18, Infinity],
  ReduceProd: [T.prod, 18, 1],
  ReduceL1: [T.l1Norm, 18, 0],
  ReduceL2: [T.l2Norm, 18, 0],
  ReduceLogSumExp: [T.logSumExp, 18, -Infinity],
  ReduceSumSquare: [T.sumSquare, 18, 0],
  ReduceLogSum: [(x, axes, keep) => T.log(T.sum(x, axes, keep)), 18, -Infinity],
};

for (const [op, [f, inputSince, identity]] of Object.entries(reducers)) {
  registerOp(op, async ([x, axesT], ctx) => {
    const keepDims = ctx.int('keepdims', 1) === 1;
    let axes = ctx.opset >= inputSince ? (axesT ? await hostInts(axesT) : undefined) : ctx.ints('axes');
    if (axes && axes.length === 0) axes = undefined;
    if (!axes && ctx.int('noop_with_empty_axes', 0) === 1) return [x!];
    const r = x!.rank;
    const norm = (axes ?? x!.shape.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
    if (x!.size === 0) {
      const shape = keepDims ? x!.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x!.shape.filter((_, i) => !norm.includes(i));
      const v = T.isInteger(x!.dtype) && !Number.isFinite(identity) ? T.intRange(x!.dtype)[identity > 0 ? 1 : 0] : identity;
      return [T.full(shape, v, x!.dtype, { backend: x!.backend })];
    }
    if (r === 0) return [x!];
    if (x!.dtype === 'bool') return [T.cast(f(T.cast(x!, 'int32'), norm, keepDims), 'bool')];
    return [f(x!, norm, keepDims)];
  });
}
