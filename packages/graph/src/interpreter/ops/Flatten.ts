import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { prod } from './util.js';

/** ONNX Flatten: [prod(dims[:axis]), prod(dims[axis:])]; axis may be negative (opset 11). */
registerOp('Flatten', ([x], ctx) => {
  const r = x!.rank;
  let a = ctx.int('axis', 1);
  if (a < 0) a += r;
  return [T.reshape(x!, [prod(x!.shape.slice(0, a)), prod(x!.shape.slice(a))])];
});
