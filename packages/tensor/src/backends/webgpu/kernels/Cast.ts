import type { KernelConfig } from '../../../backend.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { mapProgram } from './unary.js';
import { formatCast } from './cast_formats.js';

// f32 → i32 truncating toward zero, NaN → 0, saturating (same as the cpu kernel's floatToInt32)
const F2I = `
fn f2i(x: f32) -> i32 {
  // NaN by its bits: comparisons with NaN are not reliable on every driver
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return i32(-2147483648); }
  return i32(x);
}
// f32 → u32 as the cpu kernel's floatToUint32: negatives wrap through f2i, saturate above
fn f2u(x: f32) -> u32 {
  if (x < 0.0) { return u32(f2i(x)); }
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0u; }
  if (x >= 4294967296.0) { return 0xffffffffu; }
  return u32(x);
}`;

/**
 * Cast on the GPU. Storage is f32 for float32/float16, u32 for uint32/uint64 and i32 for every
 * other integer dtype and bool (packed types are unpacked on upload), so a cast is one
 * expression: float16 targets round (mapProgram), narrow int targets wrap (mapProgram),
 * float→int goes through f2i / f2u. int64 lives in i32 on the GPU, so float→int64 saturates at
 * the int32 range here (and uint64, in u32, at the uint32 range). Casts to bfloat16 and to or
 * from the float8/float4 formats (stored as i32 codes) are WGSL conversions from cast_formats.ts.
 */
export const castKernel: KernelConfig<WebGpuBackend, 'Cast'> = {
  name: 'Cast',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const to = attrs.to;
    const f = formatCast(x.dtype, to, attrs);
    if (f) return backend.runProgram(mapProgram(x, { key: f.key, outDtype: to, expr: f.expr, prelude: F2I + f.prelude }));
    const a = wgslType(x.dtype);
    const b = wgslType(to);
    let expr: string;
    // float → bool tests the bits (±0 → false, NaN → true): NaN != 0.0 is false on some drivers
    if (to === 'bool') expr = a === 'f32' ? 'select(0, 1, (bitcast<u32>(x) & 0x7fffffffu) != 0u)' : 'select(0, 1, x != 0)';
    else if (a === b) expr = 'x';
    else if (b === 'f32') expr = 'f32(x)';
    else if (a === 'f32') expr = b === 'u32' ? 'f2u(x)' : 'f2i(x)';
    else expr = `${b}(x)`; // i32 <-> u32 keeps the bits (two's complement wrap)
    return backend.runProgram(mapProgram(x, { key: 'Cast', outDtype: to, expr, prelude: F2I }));
  },
};
