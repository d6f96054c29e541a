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

/**
 * Average pooling whose divisor is the whole kernel: x is zero-padded at the end of each
 * spatial axis until every window lies inside the padded input (the zeros add nothing), pooled
 * with count_include_pad, and the extra windows the longer input allows are cut off.
 */
function avgPoolWholeKernel(x: Tensor, g: PoolGeometry): Tensor {
  const n = x.rank - 2;
  const want = windowCountsOf(x.shape, g);
  const extra = g.kernel.map((k, a) => Math.max(0, (want[a]! - 1) * g.strides[a]! + (k - 1) * g.dilations[a]! + 1 - (x.shape[a + 2]! + g.pads[a]! + g.pads[a + n]!)));
  if (extra.every((e) => e === 0)) return T.avgPoolNd(x, { ...g, countIncludePad: true });
  const padded = T.pad(x, [...new Array<number>(n + 2).fill(0), 0, 0, ...extra]);
  const y = T.avgPoolNd(padded, { ...g, countIncludePad: true });
  return T.slice(y, new Array<number>(n).fill(0), want, Array.from({ length: n }, (_, a) => a + 2));
}

function windowCountsOf(shape: readonly number[], g: PoolGeometry): number[] {
  const n = shape.length - 2;
  return g.kernel.map((k, a) => T.poolOutputSize(shape[a + 2]!, g.pads[a]!, g.pads[a + n]!, k, g.strides[a]!, g.dilations[a]!, g.ceilMode));
}

// count_include_pad before opset 19 (onnxruntime's MLAS path, ceil_mode 0) divides by the whole
// kernel even where a window runs off the end of an input shorter than it; from opset 19, and
// with ceil_mode, only taps within the padded input count (avgPoolNd's divisor).
registerOp('AveragePool', ([x], ctx) => {
  const g = geometry(x!, ctx);
  const countIncludePad = ctx.int('count_include_pad', 0) === 1;
  if (countIncludePad && ctx.opset < 19 && !g.ceilMode) return [avgPoolWholeKernel(x!, g)];
  return [T.avgPoolNd(x!, { ...g, countIncludePad })];
});

/**
 * LpPool: (sum over the window's taps inside the input of |x|^p)^(1/p), as whole-kernel average
 * pooling of |x|^p times the window size (padding and taps past the end add nothing).
 */
registerOp('LpPool', ([x], ctx) => {
  const g = geometry(x!, ctx);
  const p = ctx.int('p', 2);
  const powed = T.pow(T.abs(x!), T.full([], p, x!.dtype, { backend: x!.backend }));
  const summed = T.mulScalar(avgPoolWholeKernel(powed, g), prod(g.kernel));
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
