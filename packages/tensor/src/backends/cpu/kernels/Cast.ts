import type { KernelConfig } from '../../../backend.js';
import { type DType, type StorageArray, allocStorage, isFloat, isPacked, writePacked } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { forEachStrided } from '../strided.js';
import { encoder } from './unary.js';
import { castReader, formatWriter } from './cast_formats.js';

/**
 * Float to int32 as the GPU does it: truncate toward zero, NaN → 0, saturate to the int32 range.
 * (ONNX leaves out-of-range float→int undefined; this is what x86 cvttss2si + clamping gives.)
 */
export function floatToInt32(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v);
}

/**
 * Float to uint32: truncate toward zero, NaN → 0, saturate above at 2^32 - 1; negative values
 * go through {@link floatToInt32} and wrap (as numpy does on x86; ONNX leaves them undefined).
 */
export function floatToUint32(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v < 0) return floatToInt32(v) >>> 0;
  if (v >= 4294967295) return 4294967295;
  return Math.trunc(v);
}

/** Wrap an integer to a narrower integer dtype (two's complement modulo 2^bits, as a C cast). */
export function wrapInt(v: number, to: DType): number {
  switch (to) {
    case 'int32':
      return v | 0;
    case 'uint32':
      return v >>> 0;
    case 'int16':
      return (v << 16) >> 16;
    case 'uint16':
      return v & 0xffff;
    case 'int8':
      return (v << 24) >> 24;
    case 'uint8':
      return v & 255;
    case 'int4':
      return (v << 28) >> 28;
    case 'uint4':
      return v & 15;
    case 'int2':
      return (v << 30) >> 30;
    case 'uint2':
      return v & 3;
    default:
      return v;
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const UINT64_MAX = 18446744073709551615n;

/** Convert one value from a `from` element to a `to` element (numbers; int64 handled by caller). */
function converter(from: DType, to: DType): (v: number) => number {
  if (to === 'bool') return (v) => (v !== 0 ? 1 : 0); // NaN → true, as C
  if (isFloat(to)) return (v) => v;
  if (isFloat(from)) return to === 'uint32' ? floatToUint32 : (v) => wrapInt(floatToInt32(v), to);
  return (v) => wrapInt(v, to);
}

/**
 * Cast(x, to) between every dtype: float→float rounds to nearest even; float→int truncates
 * toward zero, saturates to int32 then wraps to narrower ints (ONNX's conformance data for
 * int4/int2 wraps: -9 → int4 7); int→int wraps; anything→bool is `x != 0`.
 */
export const castKernel: KernelConfig<CpuBackend, 'Cast'> = {
  name: 'Cast',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const xs = x!;
    const to = attrs.to;
    const size = sizeOf(xs.shape);
    const out = allocStorage(to, size);
    const src = cpuValues<StorageArray>(xs);
    const from = xs.dtype;
    const each = (fn: (s: number, d: number) => void): void => {
      if (isPacked(from)) for (let i = 0; i < size; i++) fn(xs.offset + i, i);
      else forEachStrided(xs.shape, xs.strides, xs.offset, fn);
    };
    if ((from === 'int64' || from === 'uint64') && to !== 'bool' && !isFloat(to)) {
      const v = src as BigInt64Array | BigUint64Array;
      // 64-bit typed-array stores wrap BigInts modulo 2^64
      if (to === 'int64' || to === 'uint64') each((s, d) => ((out as BigInt64Array | BigUint64Array)[d] = v[s]!));
      else {
        const w = writer(to, out);
        each((s, d) => w(d, wrapInt(Number(BigInt.asIntN(32, v[s]!)), to)));
      }
    } else if (to === 'uint64') {
      // numbers → uint64: NaN → 0, saturate above, negative integers wrap modulo 2^64
      const o = out as BigUint64Array;
      const read = castReader(from, src);
      each((s, d) => {
        const v = read(s);
        if (Number.isNaN(v)) o[d] = 0n;
        else if (v >= 18446744073709551615) o[d] = UINT64_MAX;
        else o[d] = BigInt(Math.trunc(v));
      });
    } else if (to === 'int64') {
      const o = out as BigInt64Array;
      const read = castReader(from, src);
      each((s, d) => {
        const v = read(s);
        if (Number.isNaN(v)) o[d] = 0n;
        else if (v >= 9223372036854775807) o[d] = INT64_MAX;
        else if (v <= -9223372036854775808) o[d] = INT64_MIN;
        else o[d] = BigInt(Math.trunc(v));
      });
    } else {
      const read = castReader(from, src);
      const conv = converter(from, to);
      const w = formatWriter(to, out, attrs) ?? writer(to, out);
      each((s, d) => w(d, conv(read(s))));
    }
    return [backend.output(to, xs.shape, out)];
  },
};

function writer(to: DType, out: StorageArray): (d: number, v: number) => void {
  if (isPacked(to)) return (d, v) => writePacked(to, out as Uint8Array, d, v);
  return encoder(to, out);
}
