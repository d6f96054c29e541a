import type { GradFn, GradientTable } from '../node.js';
import type { Tensor } from '../../tensor.js';
import { div, equal, mul, sub } from '../../ops/binary.js';
import { zeros } from '../../ops/creation.js';
import { sum } from '../../ops/reduce.js';
import { expand, reshape, sliceView } from '../../ops/views.js';
import { scatterSlice } from '../../ops/slice.js';
import { cast, exp, mulScalar, sign } from '../../families/elementwise.js';
import { gatherElements, scatterAdd, scatterElements } from '../../ops/gather.js';
import { sizeOf } from '../../shape.js';
import { engine } from '../../engine.js';

/** dy of a reduction, broadcast back over the input's shape. */
function spread(dy: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return expand(reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))), x.shape);
}

const zerosOf = (shape: readonly number[], like: Tensor): Tensor => zeros(shape, like.dtype, { backend: like.backend });

/** dy = x's gradient for reductions that pick elements (max/min): split evenly among ties. */
const selectGrad: GradFn<'ReduceMax' | 'ReduceMin'> = ([dy], { inputs: [x], outputs: [y], attrs }) => {
  const axes = attrs.axes;
  const mask = cast(equal(x!, spread(y!, x!, axes)), x!.dtype);
  const count = sum(mask, axes, true);
  return [div(mul(mask, spread(dy!, x!, axes)), expand(count, x!.shape))];
};

/** Flip `t` along every axis where `steps` is negative (through the Slice kernel). */
function flipNegative(t: Tensor, steps: readonly number[]): Tensor {
  if (steps.every((s) => s > 0)) return t;
  return engine().run1('Slice', [t], {
    starts: t.shape.map((d, i) => (steps[i]! < 0 ? Math.max(d - 1, 0) : 0)),
    steps: steps.map((s) => (s < 0 ? -1 : 1)),
    shape: [...t.shape],
  });
}

/** Gradients of the reductions, softmaxes and indexing ops (forward ops only). */
export const indexingGradients: GradientTable = {
  ReduceMean: ([dy], { inputs: [x], attrs }) => {
    const axes = attrs.axes;
    const n = sizeOf(axes.map((a) => x!.shape[a]!));
    return [mulScalar(spread(dy!, x!, axes), 1 / n)];
  },
  ReduceMax: selectGrad,
  ReduceMin: selectGrad,
  ReduceProd: ([dy], { inputs: [x], outputs: [y], attrs }) => {
    const axes = attrs.axes;
    return [div(mul(spread(dy!, x!, axes), spread(y!, x!, axes)), x!)];
  },
  ReduceLogSumExp: ([dy], { inputs: [x], outputs: [y], attrs }) => {
    const axes = attrs.axes;
    return [mul(spread(dy!, x!, axes), exp(sub(x!, spread(y!, x!, axes))))];
  },
  ReduceL1: ([dy], { inputs: [x], attrs }) => [mul(spread(dy!, x!, attrs.axes), sign(x!))],
  ReduceL2: ([dy], { inputs: [x], outputs: [y], attrs }) => {
    const axes = attrs.axes;
    return [div(mul(spread(dy!, x!, axes), x!), spread(y!, x!, axes))];
  },
  ReduceSumSquare: ([dy], { inputs: [x], attrs }) => [mulScalar(mul(spread(dy!, x!, attrs.axes), x!), 2)],
  Softmax: ([dy], { outputs: [y], attrs }) => {
    const axis = attrs.axis;
    const dot = sum(mul(dy!, y!), [axis], true);
    return [mul(y!, sub(dy!, expand(dot, y!.shape)))];
  },
  LogSoftmax: ([dy], { outputs: [y], attrs }) => {
    const total = sum(dy!, [attrs.axis], true);
    return [sub(dy!, mul(exp(y!), expand(total, y!.shape)))];
  },
  Gather: ([dy], { inputs: [x, ind], attrs }) => {
    const axis = attrs.axis;
    const outer = sizeOf(x!.shape.slice(0, axis));
    const inner = sizeOf(x!.shape.slice(axis + 1));
    const n = ind!.size;
    const d = x!.shape[axis]!;
    if (n === 0 || outer * inner === 0) return [zerosOf(x!.shape, dy!), null];
    const idx = expand(reshape(ind!, [1, n, 1]), [outer, n, inner]);
    const dx = scatterAdd(zerosOf([outer, d, inner], dy!), idx, reshape(dy!, [outer, n, inner]), 1);
    return [reshape(dx, x!.shape), null];
  },
  GatherElements: ([dy], { inputs: [x, ind], attrs }) => [scatterAdd(zerosOf(x!.shape, dy!), ind!, dy!, attrs.axis), null],
  ScatterElements: ([dy], { inputs: [, ind, upd], attrs }) => {
    const axis = attrs.axis;
    const dData = attrs.reduction === 'add' ? dy! : scatterElements(dy!, ind!, zerosOf(upd!.shape, dy!), axis, 'none');
    return [dData, null, gatherElements(dy!, ind!, axis)];
  },
  Concat: ([dy], { inputs, attrs }) => {
    const axis = attrs.axis;
    let at = 0;
    return inputs.map((t) => {
      const starts = dy!.shape.map((_, i) => (i === axis ? at : 0));
      const ends = dy!.shape.map((d, i) => (i === axis ? at + t.shape[axis]! : d));
      at += t.shape[axis]!;
      return sliceView(dy!, starts, ends);
    });
  },
  Slice: ([dy], { inputs: [x], attrs }) => {
    const starts = attrs.starts;
    const steps = attrs.steps;
    if (dy!.size === 0) return [zerosOf(x!.shape, dy!)];
    // a negative-step slice is the positive-step slice from its last element, reversed
    const lowest = starts.map((s, i) => (steps[i]! < 0 ? s + (dy!.shape[i]! - 1) * steps[i]! : s));
    return [scatterSlice(flipNegative(dy!, steps), x!.shape, lowest, steps.map(Math.abs))];
  },
  TopK: ([dv], { inputs: [x], outputs: [, indices], attrs }) => {
    if (!dv) return [null];
    return [scatterAdd(zerosOf(x!.shape, dv), indices!, dv, attrs.axis)];
  },
};

