import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ONNX LayerNormalization (opset 17): normalize over axes [axis, rank), then scale and bias
 * (broadcast). Optional outputs Mean and InvStdDev keep the reduced axes as 1. Also onnxruntime's
 * own LayerNormalization (default domain since version 1, which its optimizer writes into
 * opset-14 graphs with stash_type 1): the same signature and results; stash_type 1 (statistics
 * in float32) is how float32 inputs are computed anyway.
 */
registerOp('LayerNormalization', ([x, scale, bias], ctx) => {
  const r = x!.rank;
  let a = ctx.int('axis', -1);
  if (a < 0) a += r;
  const eps = ctx.float('epsilon', 1e-5);
  const axes = Array.from({ length: r - a }, (_, i) => a + i);
  const mean = T.mean(x!, axes, true);
  const d = T.sub(x!, mean);
  const variance = T.mean(T.mul(d, d), axes, true);
  const inv = T.reciprocal(T.sqrt(T.addScalar(variance, eps)));
  let y = T.mul(T.mul(d, inv), scale!);
  if (bias) y = T.add(y, bias);
  return [y, mean, inv];
});
