import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';
import { integerMatMulToFloat } from './MatMulIntegerToFloat.js';

/**
 * com.microsoft DynamicQuantizeMatMul: A (float32) quantized to uint8 over its whole range
 * (DynamicQuantizeLinear: range including 0, scale (max - min) / 255, zero point rounded half
 * to even), then MatMulIntegerToFloat with B (int8/uint8), b_scale, b_zero_point and bias.
 */
registerOp(
  'DynamicQuantizeMatMul',
  ([a, b, bScale, bZp, bias], ctx) => {
    if (a!.dtype !== 'float32') throw badInput(ctx, `A is ${a!.dtype}; it must be float32`);
    const { y, scale, zeroPoint } = T.dynamicQuantizeLinear(a!);
    return [integerMatMulToFloat(ctx, y, scale, zeroPoint, b!, bScale!, bZp, bias)];
  },
  'com.microsoft',
);
