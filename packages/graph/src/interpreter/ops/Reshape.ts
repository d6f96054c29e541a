import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/** ONNX Reshape: shape input (attribute before opset 5); 0 copies the input dim unless allowzero; -1 infers. */
registerOp('Reshape', async ([x, shapeT], ctx) => {
  const spec = ctx.opset < 5 ? (ctx.ints('shape') ?? []) : await hostInts(shapeT!);
  const allowZero = ctx.int('allowzero', 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? x!.shape[i]! : d));
  return [T.reshape(x!, shape)];
});
