import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ONNX BatchNormalization. Inference mode uses the running statistics; training_mode = 1
 * (opset 14+) normalizes with the batch statistics and also returns the updated running mean
 * and variance (running * momentum + batch * (1 - momentum), batch variance unbiased = false).
 */
registerOp('BatchNormalization', ([x, scale, bias, mean, variance], ctx) => {
  const eps = ctx.float('epsilon', 1e-5);
  if (ctx.int('training_mode', 0) !== 1) return [T.batchNorm(x!, scale!, bias!, mean!, variance!, eps)];
  const momentum = ctx.float('momentum', 0.9);
  const axes = [0, ...Array.from({ length: x!.rank - 2 }, (_, i) => i + 2)];
  const bMean = T.mean(x!, axes);
  const bVar = T.mean(T.mul(T.sub(x!, T.reshape(bMean, [1, -1, ...axes.slice(1).map(() => 1)])), T.sub(x!, T.reshape(bMean, [1, -1, ...axes.slice(1).map(() => 1)]))), axes);
  const y = T.batchNorm(x!, scale!, bias!, bMean, bVar, eps);
  const runMean = T.add(T.mulScalar(mean!, momentum), T.mulScalar(bMean, 1 - momentum));
  const runVar = T.add(T.mulScalar(variance!, momentum), T.mulScalar(bVar, 1 - momentum));
  return [y, runMean, runVar];
});
