/**
 * WGSL for Cast to and from bfloat16 and the float formats. On the GPU, bfloat16 lives in f32
 * words (every cast to it rounds here) and a float format as one i32 code per element, so these
 * conversions run in the shader; they mirror float_formats/minifloat.ts and e8m0.ts bit for bit.
 */
import type { DType } from '../../../dtype.js';
import type { KernelAttrs } from '../../../kernel_names.js';
import { type FloatFormat, isFloatFormat, minifloatOf } from '../../../float_formats/index.js';
import type { Minifloat } from '../../../float_formats/minifloat.js';
import { nanCode, signBit } from '../../../float_formats/minifloat.js';
import { wgslType } from '../backend.js';
import { lit } from './unary.js';

/** bitcast through a function call, so a NaN/Inf bit pattern is never a (rejected) const-expression. */
const BITS = `fn fmt_bits(b: u32) -> f32 { return bitcast<f32>(b); }`;

const ROUND_BF16 = `
fn round_bf16(v: f32) -> f32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return fmt_bits((b | 0x00400000u) & 0xffff0000u); }
  return fmt_bits((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`;

const hex = (v: number): string => `0x${v.toString(16)}u`;

function minifloatEncoder(f: Minifloat, saturate: boolean): string {
  const s = signBit(f);
  const zero = f.kind === 'fnuz' ? '0u' : 'sign';
  const nan = f.kind === 'fn' || f.kind === 'ieee' ? `sign | ${hex(nanCode(f))}` : hex(s);
  const overflow = saturate || f.kind === 'none' ? `sign | ${hex(f.maxCode)}` : f.kind === 'ieee' ? `sign | ${hex(((1 << f.eb) - 1) << f.mb)}` : f.kind === 'fn' ? `sign | ${hex(s - 1)}` : hex(s);
  const emin = 1 - f.bias;
  return `
fn enc_${f.name}(v: f32) -> i32 {
  let b = bitcast<u32>(v);
  let sign = select(0u, ${hex(s)}, (b >> 31u) == 1u);
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return i32(${f.kind === 'none' ? hex(s) : nan}); }
  if (a == 0x7f800000u) { return i32(${overflow}); }
  if (a < 0x00800000u) { return i32(${zero}); }
  let e = i32(a >> 23u) - 127;
  let m = (a & 0x7fffffu) | 0x800000u;
  var shift = ${23 - f.mb};
  var base = 0;
  if (e < ${emin}) { shift = shift + (${emin} - e); } else { base = (e + ${f.bias - 1}) << ${f.mb}u; }
  if (shift > 25) { return i32(${zero}); }
  var q = m >> u32(shift);
  let rem = m & ((1u << u32(shift)) - 1u);
  let half = 1u << u32(shift - 1);
  if (rem > half || (rem == half && (q & 1u) == 1u)) { q = q + 1u; }
  let code = base + i32(q);
  if (code > ${f.maxCode}) { return i32(${overflow}); }
  if (code == 0) { return i32(${zero}); }
  return i32(sign) | code;
}`;
}

function minifloatDecoder(f: Minifloat): string {
  const s = signBit(f);
  const emax = (1 << f.eb) - 1;
  const special =
    f.kind === 'fn' ? `if (mag == ${hex(s - 1)}) { return fmt_bits(0x7fc00000u); }`
    : f.kind === 'fnuz' ? `if (code == ${hex(s)}) { return fmt_bits(0x7fc00000u); }`
    : f.kind === 'ieee' ? `if (e == ${hex(emax)}) { if (m != 0u) { return fmt_bits(0x7fc00000u); } return sg * fmt_bits(0x7f800000u); }`
    : '';
  return `
fn dec_${f.name}(c: i32) -> f32 {
  let code = u32(c);
  let sg = select(1.0, -1.0, (code & ${hex(s)}) != 0u);
  let mag = code & ${hex(s - 1)};
  let e = mag >> ${f.mb}u;
  let m = mag & ${hex((1 << f.mb) - 1)};
  ${special}
  if (e == 0u) { return sg * f32(m) * ${lit(2 ** (1 - f.bias - f.mb))}; }
  return sg * fmt_bits(((e + ${127 - f.bias}u) << 23u) | (m << ${23 - f.mb}u));
}`;
}

function e8m0Encoder(saturate: boolean, roundMode: string): string {
  const up =
    roundMode === 'up' ? '(b & 0x7fffffu) != 0u'
    : roundMode === 'nearest' ? '(b & 0x400000u) != 0u && ((b & 0x200000u) != 0u || (b & 0x1fffffu) != 0u || e > 0u)'
    : 'false';
  return `
fn enc_float8e8m0(v: f32) -> i32 {
  let b = bitcast<u32>(v);
  let e = (b >> 23u) & 0xffu;
  if (e == 0xffu) { return 255; }
  var up = ${up};
  ${saturate ? 'if (e == 0xfeu) { up = false; }' : ''}
  return i32(e) + select(0, 1, up);
}`;
}

const E8M0_DECODER = `
fn dec_float8e8m0(c: i32) -> f32 {
  if (c == 255) { return fmt_bits(0x7fc00000u); }
  if (c == 0) { return fmt_bits(0x00400000u); }
  return fmt_bits(u32(c) << 23u);
}`;

const decoderOf = (d: FloatFormat): string => (d === 'float8e8m0' ? E8M0_DECODER : minifloatDecoder(minifloatOf(d)!));
const encoderOf = (d: FloatFormat, saturate: boolean, roundMode: string): string =>
  d === 'float8e8m0' ? e8m0Encoder(saturate, roundMode) : minifloatEncoder(minifloatOf(d)!, saturate);

/** A Cast involving bfloat16 targets or float formats: expression of `x`, WGSL helpers, key part. */
export interface FormatCast {
  readonly key: string;
  readonly expr: string;
  readonly prelude: string;
}

/**
 * The Cast expression when `from` is a float format or `to` is bfloat16 or a float format;
 * undefined otherwise (the plain cast applies). Integer targets use the f2i / f2u helpers of
 * the Cast kernel's prelude.
 */
export function formatCast(from: DType, to: DType, attrs: KernelAttrs['Cast']): FormatCast | undefined {
  if (!isFloatFormat(from) && !isFloatFormat(to) && to !== 'bfloat16') return undefined;
  const saturate = attrs.saturate !== false;
  const roundMode = attrs.roundMode ?? 'up';
  const parts = [BITS];
  let v = 'x';
  if (isFloatFormat(from)) {
    parts.push(decoderOf(from));
    v = `dec_${from}(x)`;
  } else if (wgslType(from) !== 'f32') v = `f32(x)`;
  let expr: string;
  if (isFloatFormat(to)) {
    parts.push(encoderOf(to, saturate, roundMode));
    expr = `enc_${to}(${v})`;
  } else if (to === 'bfloat16') {
    parts.push(ROUND_BF16);
    expr = `round_bf16(${v})`;
  } else if (to === 'bool') expr = `select(0, 1, (bitcast<u32>(${v}) & 0x7fffffffu) != 0u)`;
  else if (wgslType(to) === 'f32') expr = v;
  else expr = wgslType(to) === 'i32' ? `f2i(${v})` : `f2u(${v})`;
  return { key: `CastF:${saturate ? 's' : 'n'}:${roundMode}`, expr, prelude: parts.join('\n') };
}
