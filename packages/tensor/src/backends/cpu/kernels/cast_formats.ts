import { type DType, type StorageArray, bfloat16BitsToFloat32, float32ToBfloat16Bits, readPacked, writePacked } from '../../../dtype.js';
import { decodeFloatFormat, encodeFloatFormat, isFloatFormat } from '../../../float_formats/index.js';
import type { KernelAttrs } from '../../../kernel_names.js';
import { decoder } from './unary.js';

/** Reader of storage slot `s` as a number: bfloat16 and the float formats decoded, else {@link decoder}. */
export function castReader(dtype: DType, values: StorageArray): (s: number) => number {
  if (dtype === 'bfloat16') return (s) => bfloat16BitsToFloat32((values as Uint16Array)[s]!);
  if (dtype === 'float4e2m1') return (s) => decodeFloatFormat(dtype, readPacked(dtype, values as Uint8Array, s));
  if (isFloatFormat(dtype)) {
    const v = values as Uint8Array;
    return (s) => decodeFloatFormat(dtype, v[s]!);
  }
  return decoder(dtype, values);
}

/**
 * Writer of element `d` for Cast targets that need more than a store: bfloat16 (round to
 * nearest even) and the float formats (Cast's saturate / roundMode attributes); undefined for
 * every other dtype.
 */
export function formatWriter(to: DType, out: StorageArray, attrs: KernelAttrs['Cast']): ((d: number, v: number) => void) | undefined {
  if (to === 'bfloat16') return (d, v) => ((out as Uint16Array)[d] = float32ToBfloat16Bits(v));
  if (!isFloatFormat(to)) return undefined;
  const opts = { saturate: attrs.saturate !== false, roundMode: attrs.roundMode ?? 'up' };
  const o = out as Uint8Array;
  if (to === 'float4e2m1') return (d, v) => writePacked(to, o, d, encodeFloatFormat(to, v, opts));
  return (d, v) => (o[d] = encodeFloatFormat(to, v, opts));
}
