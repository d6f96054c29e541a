import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { intsInputOrAttr } from './util.js';

/** ONNX Unsqueeze: axes (of the output) attribute before opset 13, input since. */
registerOp('Unsqueeze', async ([x, axesT], ctx) => {
  const axes = (await intsInputOrAttr(axesT, ctx, 'axes', 13)) ?? [];
  return [T.unsqueeze(x!, axes)];
});
