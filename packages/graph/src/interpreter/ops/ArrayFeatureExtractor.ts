import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ai.onnx.ml ArrayFeatureExtractor: the elements of X at the given indices of its last axis
 * (every index given, flattened); a 1-D X gives [1, count]. skl2onnx maps an ArgMax to class
 * labels with it (`classes` table, then Reshape [-1]).
 */
registerOp('ArrayFeatureExtractor', ([x, idx]) => {
  const flat = T.reshape(idx!, [idx!.size]);
  const x2 = x!.shape.length === 1 ? T.reshape(x!, [1, x!.size]) : x!;
  return [T.gather(x2, flat, x2.shape.length - 1)];
}, 'ai.onnx.ml');
