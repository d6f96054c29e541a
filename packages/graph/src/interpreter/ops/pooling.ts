import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { prod, resolveAutoPad, unsupported } from './util.js';

/** The pooling family: MaxPool, AveragePool, LpPool and GlobalAverage/Max/LpPool, any spatial rank. */
interface PoolGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  ceilMode: boolean;
}

function geometry(x: Tensor, ctx: OpContext): PoolGeometry {
  const n = x.rank - 2;
  const kernel = ctx.ints('kernel_shape') ?? unsupported(ctx, 'a pool without kernel_shape');
  const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(n).fill(1);
  return { kernel, strides, dilations, pads: resolveAutoPad(ctx, x.shape.slice(2), kernel, strides, dilations), ceilMode: ctx.int('ceil_mode', 0) === 1 };
}

registerOp('MaxPool', ([x], ctx) => {
  const { values, indices } = T.maxPoolNd(x!, geometry(x!, ctx));
  let idx = indices;
  if (ctx.int('storage_order', 0) === 1 && ctx.node.outputs[1]) {
    // column-major spatial offsets: within each N*C plane, h + w * H
    if (x!.rank !== 4) unsupported(ctx, `storage_order 1 on ${x!.rank - 2}-D input (2-D is supported)`);
    const [, , H, W] = x!.shape as [number, number, number, number];
    const plane = T.tensor([H * W], [], 'int64', { backend: idx.backend });
    const wide = T.tensor([W], [], 'int64', { backend: idx.backend });
    const high = T.tensor([H], [], 'int64', { backend: idx.backend });
    const r = T.sub(idx, T.mul(T.div(idx, plane), plane));
    const h = T.div(r, wide);
    const w = T.sub(r, T.mul(h, wide));
    idx = T.add(T.sub(idx, r), T.add(h, T.mul(w, high)));
  }
  return [values, idx];
});

registerOp('AveragePool', ([x], ctx) => [T.avgPoolNd(x!, { ...geometry(x!, ctx), countIncludePad: ctx.int('count_include_pad', 0) === 1 })]);

/** LpPool: (sum over the window of |x|^p)^(1/p), as p-th power average pooling times the window size. */
registerOp('LpPool', ([x], ctx) => {
  const g = geometry(x!, ctx);
  const p = ctx.int('p', 2);
  const powed = T.pow(T.abs(x!), T.full([], p, x!.dtype, { backend: x!.backend }));
  const avg = T.avgPoolNd(powed, { ...g, countIncludePad: true });
  const summed = T.mulScalar(avg, prod(g.kernel));
  return [T.pow(summed, T.full([], 1 / p, x!.dtype, { backend: x!.backend }))];
});

const spatialAxes = (x: Tensor): number[] => Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
registerOp('GlobalAveragePool', ([x]) => [T.mean(x!, spatialAxes(x!), true)]);
registerOp('GlobalMaxPool', ([x]) => [T.max(x!, spatialAxes(x!), true)]);
registerOp('GlobalLpPool', ([x], ctx) => {
  const p = ctx.int('p', 2);
  const pt = T.full([], p, x!.dtype, { backend: x!.backend });
  const s = T.sum(T.pow(T.abs(x!), pt), spatialAxes(x!), true);
  return [T.pow(s, T.full([], 1 / p, x!.dtype, { backend: x!.backend }))];
});
