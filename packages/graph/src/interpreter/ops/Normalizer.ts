import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ai.onnx.ml Normalizer: each row (the last axis) divided by its MAX (largest value), L1 (sum of
 * absolute values) or L2 (Euclidean) norm, float32 out. skl2onnx writes it after a one-vs-rest or
 * multinomial LinearClassifier (L1) and for sklearn's Normalizer.
 */
registerOp('Normalizer', ([x], ctx) => {
  const xf = x!.dtype === 'float32' ? x! : T.cast(x!, 'float32');
  const last = [xf.shape.length - 1];
  const norm = ctx.string('norm', 'MAX');
  const d = norm === 'L1' ? T.sum(T.abs(xf), last, true) : norm === 'L2' ? T.sqrt(T.sumSquare(xf, last, true)) : norm === 'MAX' ? T.max(xf, last, true) : unsupported(ctx, `norm '${norm}'`);
  return [T.div(xf, d)];
}, 'ai.onnx.ml');
