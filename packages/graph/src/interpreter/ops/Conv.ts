import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { resolveAutoPad } from './util.js';
import { toSpatial2d, weight2d } from './spatial.js';

/** Conv of x and w (float) with the node's Conv attributes (1-D and 2-D; auto_pad, group, dilations). */
export function convolve(x: Tensor, w: Tensor, b: Tensor | undefined, ctx: OpContext): Tensor {
  const n = x.rank - 2;
  const kernel = ctx.ints('kernel_shape') ?? w.shape.slice(2);
  const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(n).fill(1);
  const pads = resolveAutoPad(ctx, x.shape.slice(2), kernel, strides, dilations);
  const s = toSpatial2d(x, ctx);
  const y = T.conv2d(s.x, weight2d(w), b, { strides: s.lift(strides, 1), dilations: s.lift(dilations, 1), pads: s.liftPads(pads), group: ctx.int('group', 1) });
  return s.back(y);
}

/** ONNX Conv. */
registerOp('Conv', ([x, w, b], ctx) => [convolve(x!, w!, b, ctx)]);
