import * as T from '@whittle/tensor';
import { getOp, registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';
import { dequantize, perTensor } from './qlinear_util.js';
import './pooling.js';

/**
 * com.microsoft QLinearAveragePool: ONNX AveragePool (kernel_shape, strides, pads, auto_pad,
 * ceil_mode, count_include_pad) on dequantize(X), then saturate(round_half_even(y / y_scale +
 * y_zp)) as onnxruntime's kernel rounds; channels_last 1
 * takes and gives NHWC… (transposed around the NCHW pooling).
 */
registerOp(
  'QLinearAveragePool',
  async ([x, xS, xZp, yS, yZp], ctx) => {
    if (x!.rank < 3) throw badInput(ctx, `X has rank ${x!.rank}; it needs a batch, a channel and at least one spatial axis`);
    const last = ctx.int('channels_last', 0) === 1;
    const r = x!.rank;
    const toFirst = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
    const toLast = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
    let f = dequantize(ctx, x!, xS!, xZp, 'X');
    if (last) f = T.transpose(f, toFirst);
    let [y] = await getOp('AveragePool')!([f], ctx);
    if (last) y = T.transpose(y!, toLast);
    // onnxruntime rounds y / y_scale + y_zp (the zero point added before rounding, as a float)
    const sy = perTensor(ctx, yS!, 'y_scale');
    let v = T.div(y!, sy.dtype === 'float32' ? sy : T.cast(sy, 'float32'));
    if (yZp) v = T.add(v, T.cast(perTensor(ctx, yZp, 'y_zero_point'), 'float32'));
    return [T.quantizeLinear(v, T.full([], 1, 'float32', { backend: v.backend }), undefined, { dtype: yZp?.dtype ?? x!.dtype })];
  },
  'com.microsoft',
);
