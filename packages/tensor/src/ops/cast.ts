import { type DType, DTYPES } from '../dtype.js';
import { engine } from '../engine.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { FloatFormatOptions } from '../float_formats/index.js';

/**
 * Convert to `dtype` (ONNX Cast), between every Whittle dtype including packed int4/uint4/
 * int2/uint2:
 * - float → float16 rounds to nearest even;
 * - float → integer truncates toward zero (NaN → 0, saturated to the int32 range) and then
 *   wraps modulo 2^bits to narrower types, like a C cast and like ONNX's reference
 *   (Cast float -9 → int4 gives 7). On webgpu, where int64 is stored as int32, float → int64
 *   also saturates to the int32 range;
 * - integer → integer wraps modulo 2^bits (two's complement);
 * - anything → bool is `x != 0` (NaN → true); bool → number gives 0/1.
 *
 * - to bfloat16 rounds to nearest even; float64 is exact on cpu and float32 on webgpu;
 * - to the float8/float4 formats rounds to nearest even with ONNX's saturation rules
 *   (`opts.saturate`, default true) and to float8e8m0 by `opts.roundMode` (default 'up');
 *   see float_formats/minifloat.ts and e8m0.ts. From a format, values decode exactly.
 *
 * Always returns a new tensor, also when `x` already has `dtype`.
 */
export function cast(x: Tensor, dtype: DType, opts: FloatFormatOptions = {}): Tensor {
  if (!DTYPES.includes(dtype)) throw new DTypeError(`cast: unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  const roundMode = opts.roundMode ?? 'up';
  if (!['up', 'down', 'nearest'].includes(roundMode)) throw new DTypeError(`cast: round mode '${String(roundMode)}' must be 'up', 'down' or 'nearest'`);
  return engine().run1('Cast', [x], { to: dtype, saturate: opts.saturate ?? true, roundMode });
}
