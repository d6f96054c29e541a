import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { intsInputOrAttr } from './util.js';

/** ONNX Squeeze: axes attribute before opset 13, optional input since (all size-1 axes when absent). */
registerOp('Squeeze', async ([x, axesT], ctx) => {
  const axes = await intsInputOrAttr(axesT, ctx, 'axes', 13);
  return [T.squeeze(x!, axes)];
});
