import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX ArgMax / ArgMin (int64; keepdims; select_last_index since opset 12). */
for (const [op, f] of [['ArgMax', T.argmax], ['ArgMin', T.argmin]] as const) {
  registerOp(op, ([x], ctx) => [f(x!, ctx.int('axis', 0), ctx.int('keepdims', 1) === 1, ctx.int('select_last_index', 0) === 1)]);
}
