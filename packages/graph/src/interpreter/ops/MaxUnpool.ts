import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX MaxUnpool: the values of X written at the flat positions MaxPool's Indices recorded into
 * zeros of the unpooled shape, each spatial dim (d − 1)·stride − pad_begin − pad_end + kernel;
 * a larger `output_shape` pads zeros after it (onnx's reference). One scatter on X's backend
 * (differentiable in X).
 */
registerOp('MaxUnpool', async ([x, indicesT, shapeT], ctx) => {
  const kernel = ctx.ints('kernel_shape') ?? unsupported(ctx, 'a missing kernel_shape');
  const nd = kernel.length;
  if (x!.rank !== nd + 2) unsupported(ctx, `X of rank ${x!.rank} with a ${nd}-D kernel`);
  const strides = ctx.ints('strides') ?? new Array<number>(nd).fill(1);
  const pads = ctx.ints('pads') ?? new Array<number>(2 * nd).fill(0);
  const inferred = [x!.shape[0]!, x!.shape[1]!, ...x!.shape.slice(2).map((d, i) => (d - 1) * strides[i]! - pads[i]! - pads[i + nd]! + kernel[i]!)];
  const total = inferred.reduce((p, d) => p * d, 1);
  const idx = await hostInts(indicesT!);
  const bad = idx.find((v) => v < 0 || v >= total);
  if (bad !== undefined) unsupported(ctx, `index ${bad} outside an output of ${total} elements`);
  const flat = T.scatterElements(T.zeros([total], x!.dtype, { backend: x!.backend }), T.tensor(idx, [idx.length], 'int32', { backend: x!.backend }), T.reshape(x!, [x!.size]), 0);
  const y = T.reshape(flat, inferred);
  if (!shapeT) return [y];
  // a larger output_shape keeps the unpooled block at the start of each dim (onnx's reference)
  const shape = await hostInts(shapeT);
  if (shape.length !== inferred.length || shape.some((d, i) => d < inferred[i]!)) unsupported(ctx, `output_shape [${shape.join(',')}] smaller than the unpooled [${inferred.join(',')}]`);
  const ends = [...new Array<number>(shape.length).fill(0), ...shape.map((d, i) => d - inferred[i]!)];
  return [ends.some((e) => e > 0) ? T.pad(y, ends) : y];
});
