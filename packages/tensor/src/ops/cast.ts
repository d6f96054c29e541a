import { type DType, DTYPES } from '../dtype.js';
import { engine } from '../engine.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

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
 * Always returns a new tensor, also when `x` already has `dtype`.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!DTYPES.includes(dtype)) throw new DTypeError(`cast: unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  return engine().run1('Cast', [x], { to: dtype });
}
