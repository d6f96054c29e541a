import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { checkPoolInput, perTensor, quantize } from './qlinear_util.js';

/**
 * com.microsoft QLinearGlobalAveragePool as onnxruntime's MLAS kernel computes it: the integer
 * sum of (X - x_zp) over the spatial axes — [2, rank) with channels_last 0, [1, rank-1) with
 * channels_last 1 — times the float32 factor x_scale / (y_scale · image size), rounded half to
 * even, plus y_zp, saturated; the spatial axes are kept as size 1.
 */
registerOp(
  'QLinearGlobalAveragePool',
  async ([x, xS, xZp, yS, yZp], ctx) => {
    const last = checkPoolInput(ctx, x!);
    const axes = Array.from({ length: x!.rank - 2 }, (_, i) => (last ? i + 1 : i + 2));
    const size = axes.reduce((n, a) => n * x!.shape[a]!, 1);
    const xi = T.cast(x!, 'int32');
    const acc = T.sum(xZp ? T.sub(xi, T.cast(perTensor(ctx, xZp, 'x_zero_point'), 'int32')) : xi, axes, true);
    const sx = Math.fround((await perTensor(ctx, xS!, 'x_scale').toFloat64())[0]!);
    const sy = Math.fround((await perTensor(ctx, yS!, 'y_scale').toFloat64())[0]!);
    const factor = Math.fround(sx / Math.fround(sy * size));
    const y = T.mulScalar(T.cast(acc, 'float32'), factor);
    return [quantize(ctx, y, T.full([], 1, 'float32', { backend: y.backend }), yZp, x!.dtype)];
  },
  'com.microsoft',
);
