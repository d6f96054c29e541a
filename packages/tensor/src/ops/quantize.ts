import { type DType, isFloat } from '../dtype.js';
import { engine } from '../engine.js';
import type { QuantScaleAttrs } from '../kernel_names.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Integer dtypes QuantizeLinear can produce and DequantizeLinear can read. */
export const QUANT_DTYPES: readonly DType[] = ['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint2', 'int16', 'uint16'];

/** Options of quantizeLinear / dequantizeLinear. */
export interface QuantizeOptions {
  /** Axis of a per-axis (1-D scale) or block-wise scale; default 1 as in ONNX. */
  axis?: number;
  /** Block size along `axis` for block-wise scales (opset 21); omit for none. */
  blockSize?: number;
  /** Output dtype of quantizeLinear (default: the zero point's dtype, else uint8). */
  dtype?: DType;
}

/** Work out per-tensor / per-axis / block-wise mode from the scale's shape, with typed errors. */
function quantMode(where: string, x: Tensor, scale: Tensor, zeroPoint: Tensor | undefined, opts: QuantizeOptions): QuantScaleAttrs {
  if (scale.dtype !== 'float32' && scale.dtype !== 'float16') throw new DTypeError(`${where}: scale is ${scale.dtype}; it must be float32 or float16`);
  if (zeroPoint && (zeroPoint.rank !== scale.rank || zeroPoint.shape.some((d, i) => d !== scale.shape[i]))) {
    throw new ShapeError(`${where}: zero point [${zeroPoint.shape.join(',')}] must have the scale's shape [${scale.shape.join(',')}]`);
  }
  if (opts.blockSize !== undefined) {
    const bs = opts.blockSize;
    if (!Number.isInteger(bs) || bs <= 0) throw new ArgumentError(`${where}: block size ${bs} must be a positive integer`);
    if (x.rank === 0) throw new ShapeError(`${where}: block-wise quantization needs rank >= 1`);
    const axis = normalizeAxis(opts.axis ?? 1, x.rank, where);
    const want = x.shape.map((d, i) => (i === axis ? Math.ceil(d / bs) : d));
    if (scale.rank !== x.rank || scale.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${where}: block size ${bs} on axis ${axis} of [${x.shape.join(',')}] needs a scale of shape [${want.join(',')}], got [${scale.shape.join(',')}]`);
    }
    return { mode: 'block', axis, blockSize: bs };
  }
  if (scale.size === 1 && scale.rank <= 1) return { mode: 'tensor', axis: 0, blockSize: 0 };
  const axis = normalizeAxis(opts.axis ?? 1, x.rank, where);
  if (scale.rank !== 1 || scale.shape[0] !== x.shape[axis]) {
    throw new ShapeError(`${where}: a per-axis scale on axis ${axis} of [${x.shape.join(',')}] must have shape [${x.shape[axis]}], got [${scale.shape.join(',')}]`);
  }
  return { mode: 'axis', axis, blockSize: 0 };
}

/**
 * ONNX QuantizeLinear: `saturate(round(x / scale) + zeroPoint)` (round half to even) into an
 * int8/uint8/int16/uint16/int4/uint4/int2/uint2 tensor. The scale is per-tensor (one element), per-axis
 * (1-D, length x.shape[axis]) or block-wise (`blockSize`: x's shape with the axis dimension
 * divided by blockSize, rounded up).
 */
export function quantizeLinear(x: Tensor, scale: Tensor, zeroPoint?: Tensor, opts: QuantizeOptions = {}): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`quantizeLinear: input is ${x.dtype}; it must be float32 or float16`);
  const dtype = opts.dtype ?? zeroPoint?.dtype ?? 'uint8';
  if (!QUANT_DTYPES.includes(dtype)) throw new DTypeError(`quantizeLinear: output dtype ${dtype} is not one of ${QUANT_DTYPES.join(', ')}`);
  if (zeroPoint && zeroPoint.dtype !== dtype) throw new DTypeError(`quantizeLinear: zero point is ${zeroPoint.dtype}, output dtype is ${dtype}`);
  const attrs = quantMode('quantizeLinear', x, scale, zeroPoint, opts);
  return engine().run1('QuantizeLinear', zeroPoint ? [x, scale, zeroPoint] : [x, scale], { ...attrs, dtype });
}

/**
 * ONNX DequantizeLinear: `(q - zeroPoint) * scale` in the scale's dtype; same scale layouts as
 * quantizeLinear. `q` may be any of the quantized dtypes or int32 (zero point then omitted).
 */
export function dequantizeLinear(q: Tensor, scale: Tensor, zeroPoint?: Tensor, opts: Omit<QuantizeOptions, 'dtype'> = {}): Tensor {
  if (!QUANT_DTYPES.includes(q.dtype) && q.dtype !== 'int32') throw new DTypeError(`dequantizeLinear: input is ${q.dtype}; it must be one of ${QUANT_DTYPES.join(', ')} or int32`);
  if (zeroPoint && zeroPoint.dtype !== q.dtype) throw new DTypeError(`dequantizeLinear: zero point is ${zeroPoint.dtype}, input is ${q.dtype}`);
  const attrs = quantMode('dequantizeLinear', q, scale, zeroPoint, opts);
  return engine().run1('DequantizeLinear', zeroPoint ? [q, scale, zeroPoint] : [q, scale], attrs);
}

/**
 * ONNX DynamicQuantizeLinear (uint8): scale = (max(0, max x) - min(0, min x)) / 255, zero point
 * = round(clip(-min / scale, 0, 255)), y = saturate(round(x / scale) + zeroPoint). An all-zero
 * input gives scale 0, zero point 0 and y = 0.
 */
export function dynamicQuantizeLinear(x: Tensor): { y: Tensor; scale: Tensor; zeroPoint: Tensor } {
  if (x.dtype !== 'float32') throw new DTypeError(`dynamicQuantizeLinear: input is ${x.dtype}; it must be float32`);
  const [y, scale, zeroPoint] = engine().runKernel('DynamicQuantizeLinear', [x], {});
  return { y: y!, scale: scale!, zeroPoint: zeroPoint! };
}
