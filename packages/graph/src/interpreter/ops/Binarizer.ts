import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { scalarLike } from './util.js';

/** ai.onnx.ml Binarizer: 1 where x > threshold, else 0, in x's dtype. */
registerOp('Binarizer', ([x], ctx) => {
  const above = T.greater(x!, scalarLike(x!, ctx.float('threshold', 0)));
  return [T.where(above, scalarLike(x!, 1), scalarLike(x!, 0))];
}, 'ai.onnx.ml');
