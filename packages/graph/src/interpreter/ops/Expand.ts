import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/** ONNX Expand: bidirectional broadcast of x with the given shape. */
registerOp('Expand', async ([x, shapeT]) => {
  const shape = await hostInts(shapeT!);
  const out = T.broadcastShapes(x!.shape, shape);
  return [T.contiguous(T.expand(x!, out))];
});
