import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX TopK: k attribute before opset 10, input since; largest/sorted since 11. */
registerOp('TopK', async ([x, kT], ctx) => {
  const k = ctx.opset < 10 ? ctx.int('k', 1) : Number((await kT!.data())[0]);
  const { values, indices } = T.topk(x!, k, ctx.int('axis', -1), ctx.int('largest', 1) === 1, ctx.int('sorted', 1) === 1);
  return [values, indices];
});
