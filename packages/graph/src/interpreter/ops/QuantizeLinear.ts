import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { Tensor } from '@whittle/tensor';
import { onnxTypeToDType } from './elementwise.js';
import { dequantizeFromFloatFormat, quantizeToFloatFormat } from './quantize_float.js';

/** A one-element zero point next to a one-element scale: both as scalars (shapes [] and [1] mix in models). */
const perTensor = (scale: Tensor, zp: Tensor | undefined): [Tensor, Tensor | undefined] =>
  scale.size === 1 && (!zp || zp.size === 1) ? [T.reshape(scale, []), zp && T.reshape(zp, [])] : [scale, zp];

/**
 * ONNX QuantizeLinear: per-tensor, per-axis (axis, opset 13) and blocked (block_size, opset
 * 21); the output dtype is the zero point's, else output_dtype (opset 21), else uint8.
 */
registerOp('QuantizeLinear', ([x, scale0, zp0], ctx) => {
  const [scale, zp] = perTensor(scale0!, zp0);
  const code = ctx.int('output_dtype', 0);
  const dtype = zp?.dtype ?? (code ? onnxTypeToDType(code, ctx.node.name) : 'uint8');
  if (T.isFloatFormat(dtype)) return [quantizeToFloatFormat(x!, scale, zp, dtype, ctx)];
  const blockSize = ctx.int('block_size', 0);
  const xf = T.isFloat(x!.dtype) ? x! : T.cast(x!, 'float32');
  const s = scale.dtype === xf.dtype || scale.dtype === 'float32' ? scale : T.cast(scale, 'float32');
  return [T.quantizeLinear(xf, s, zp, { axis: ctx.int('axis', 1), dtype, ...(blockSize > 0 ? { blockSize } : {}) })];
});

/** ONNX DequantizeLinear: (x - zero_point) * scale in the scale's dtype; same scale layouts. */
registerOp('DequantizeLinear', ([x, scale0, zp0], ctx) => {
  const [scale, zp] = perTensor(scale0!, zp0);
  if (T.isFloatFormat(x!.dtype)) return [dequantizeFromFloatFormat(x!, scale, zp, ctx)];
  const blockSize = ctx.int('block_size', 0);
  return [T.dequantizeLinear(x!, scale, zp, { axis: ctx.int('axis', 1), ...(blockSize > 0 ? { blockSize } : {}) })];
});

/** ONNX DynamicQuantizeLinear (uint8): y, y_scale, y_zero_point. */
registerOp('DynamicQuantizeLinear', ([x]) => {
  const { y, scale, zeroPoint } = T.dynamicQuantizeLinear(x!);
  return [y, scale, zeroPoint];
});
