import { describe, expect, it } from 'vitest';
import { decodeFloatFormat, encodeFloatFormat, FLOAT_FORMATS, type FloatFormat } from '@whittle/tensor/node';

/** Field layout of each minifloat, from onnx.ai/onnx/technical/float8.html and float4.html. */
const LAYOUT = {
  float8e4m3fn: { eb: 4, mb: 3, bias: 7 },
  float8e4m3fnuz: { eb: 4, mb: 3, bias: 8 },
  float8e5m2: { eb: 5, mb: 2, bias: 15 },
  float8e5m2fnuz: { eb: 5, mb: 2, bias: 16 },
  float4e2m1: { eb: 2, mb: 1, bias: 1 },
} as const;
type Mini = keyof typeof LAYOUT;
const MINIS = Object.keys(LAYOUT) as Mini[];

/** The spec's value formula, with the special codes of each flavour. */
function refDecode(f: Mini, c: number): number {
  const { eb, mb, bias } = LAYOUT[f];
  const sbit = 1 << (eb + mb);
  const s = c & sbit ? -1 : 1;
  const e = (c >> mb) & ((1 << eb) - 1);
  const m = c & ((1 << mb) - 1);
  if (f === 'float8e4m3fn' && (c & 0x7f) === 0x7f) return NaN;
  if ((f === 'float8e4m3fnuz' || f === 'float8e5m2fnuz') && c === 0x80) return NaN;
  if (f === 'float8e5m2' && e === 31) return m === 0 ? s * Infinity : NaN;
  return e === 0 ? s * 2 ** (1 - bias) * (m / 2 ** mb) : s * 2 ** (e - bias) * (1 + m / 2 ** mb);
}

const codes = (f: FloatFormat): number[] => Array.from({ length: f === 'float4e2m1' ? 16 : 256 }, (_, i) => i);

describe('float formats: decode', () => {
  it.each(MINIS)('%s: every code decodes as the spec formula says', (f) => {
    for (const c of codes(f)) expect(Object.is(decodeFloatFormat(f, c), refDecode(f, c)) || (isNaN(refDecode(f, c)) && isNaN(decodeFloatFormat(f, c))), `${f} 0x${c.toString(16)}`).toBe(true);
  });
  it('known extremes of each format', () => {
    expect([0x7e, 0x01, 0x38, 0xfe].map((c) => decodeFloatFormat('float8e4m3fn', c))).toEqual([448, 2 ** -9, 1, -448]);
    expect([0x7f, 0x01, 0x40].map((c) => decodeFloatFormat('float8e4m3fnuz', c))).toEqual([240, 2 ** -10, 1]);
    expect([0x7b, 0x7c, 0xfc, 0x01, 0x3c].map((c) => decodeFloatFormat('float8e5m2', c))).toEqual([57344, Infinity, -Infinity, 2 ** -16, 1]);
    expect([0x7f, 0x01, 0x40].map((c) => decodeFloatFormat('float8e5m2fnuz', c))).toEqual([57344, 2 ** -17, 1]);
    expect(codes('float4e2m1').map((c) => decodeFloatFormat('float4e2m1', c))).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
    expect([0x7f, 0x80, 0x00, 0xfe].map((c) => decodeFloatFormat('float8e8m0', c))).toEqual([1, 2, 2 ** -127, 2 ** 127]);
    expect(decodeFloatFormat('float8e8m0', 0xff)).toBeNaN();
  });
  it('float8e8m0: code c is 2^(c - 127) for all 255 non-NaN codes', () => {
    for (let c = 0; c < 255; c++) expect(decodeFloatFormat('float8e8m0', c)).toBe(2 ** (c - 127));
  });
});

describe('float formats: encode', () => {
  it.each(MINIS)('%s: every finite code round-trips', (f) => {
    for (const c of codes(f)) {
      const v = refDecode(f, c);
      if (Number.isFinite(v)) expect(encodeFloatFormat(f, v), `${f} 0x${c.toString(16)}`).toBe(c);
    }
  });
  it.each(MINIS)('%s: rounds to nearest, ties to the even code, between every pair of neighbours', (f) => {
    const pos = codes(f).filter((c) => c < 1 << (LAYOUT[f].eb + LAYOUT[f].mb)).map((c) => [c, refDecode(f, c)] as const).filter(([, v]) => Number.isFinite(v));
    for (let i = 0; i + 1 < pos.length; i++) {
      const [lo, a] = pos[i]!;
      const [hi, b] = pos[i + 1]!;
      const mid = (a + b) / 2;
      const eps = (b - a) / 64;
      expect(encodeFloatFormat(f, mid - eps), `${f} below ${mid}`).toBe(lo);
      expect(encodeFloatFormat(f, mid + eps), `${f} above ${mid}`).toBe(hi);
      expect(encodeFloatFormat(f, mid), `${f} tie ${mid}`).toBe(lo % 2 === 0 ? lo : hi);
    }
  });
  it('saturation and special values follow the ONNX Cast tables', () => {
    const big = 1e6;
    // [format, saturate, NaN, +Inf, -Inf, +big, -big, -0, -tiny]
    const table: [FloatFormat, boolean, number[]][] = [
      ['float8e4m3fn', true, [0x7f, 0x7e, 0xfe, 0x7e, 0xfe, 0x80, 0x80]],
      ['float8e4m3fn', false, [0x7f, 0x7f, 0xff, 0x7f, 0xff, 0x80, 0x80]],
      ['float8e4m3fnuz', true, [0x80, 0x7f, 0xff, 0x7f, 0xff, 0x00, 0x00]],
      ['float8e4m3fnuz', false, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00]],
      ['float8e5m2', true, [0x7e, 0x7b, 0xfb, 0x7b, 0xfb, 0x80, 0x80]],
      ['float8e5m2', false, [0x7e, 0x7c, 0xfc, 0x7c, 0xfc, 0x80, 0x80]],
      ['float8e5m2fnuz', true, [0x80, 0x7f, 0xff, 0x7f, 0xff, 0x00, 0x00]],
      ['float8e5m2fnuz', false, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00]],
      ['float4e2m1', true, [0x8, 0x7, 0xf, 0x7, 0xf, 0x8, 0x8]],
      ['float4e2m1', false, [0x8, 0x7, 0xf, 0x7, 0xf, 0x8, 0x8]],
    ];
    for (const [f, saturate, want] of table) {
      const got = [NaN, Infinity, -Infinity, big, -big, -0, -1e-30].map((v) => encodeFloatFormat(f, v, { saturate }));
      expect(got, `${f} saturate=${saturate}`).toEqual(want);
    }
  });
  it('e4m3fn: just above max rounds down to 448 up to the tie at 464, then overflows', () => {
    expect(encodeFloatFormat('float8e4m3fn', 464, { saturate: false })).toBe(0x7e);
    expect(encodeFloatFormat('float8e4m3fn', 464.5, { saturate: false })).toBe(0x7f);
    expect(encodeFloatFormat('float8e4m3fn', 464.5)).toBe(0x7e);
    expect(encodeFloatFormat('float8e5m2', 61440, { saturate: false })).toBe(0x7c); // tie above 57344 goes to the even code: Inf
  });
  it('ONNX conformance vectors (onnx 1.22 test_cast_FLOAT_to_*)', () => {
    const xs = [0.4789254665374756, 0.48033666610717773, 0.4996848702430725, 0.8191054463386536, 0.4703124761581421, 0.7229037880897522, 1e6, 1e-7, NaN, Infinity, Infinity, -Infinity, -1e-7, 1e-7, -1e6];
    expect(xs.map((v) => encodeFloatFormat('float8e4m3fn', v))).toEqual([0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7e, 0, 0x7f, 0x7e, 0x7e, 0xfe, 0x80, 0, 0xfe]);
    expect(xs.map((v) => encodeFloatFormat('float8e5m2fnuz', v))).toEqual([0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x7f, 0, 0x80, 0x7f, 0x7f, 0xff, 0, 0, 0xff]);
    expect(xs.map((v) => encodeFloatFormat('float8e5m2', v, { saturate: false }))).toEqual([0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7c, 0, 0x7e, 0x7c, 0x7c, 0xfc, 0x80, 0, 0xfc]);
    const f4 = [0.48, 0.25, 1.05, -3.5, -8, 9, 1e6, 1e-7, NaN, Infinity, Infinity, -Infinity, -4, 0.01, -0];
    expect(f4.map((v) => encodeFloatFormat('float4e2m1', v))).toEqual([1, 0, 2, 0xe, 0xf, 7, 7, 0, 8, 7, 7, 0xf, 0xe, 0, 8]);
  });
  it('float8e8m0: round modes up / down / nearest and saturation (onnx numpy_helper.to_float8e8m0)', () => {
    const xs = [0, 0.124, 0.25, 0.5, 1.1, 2, 4, 8];
    expect(xs.map((v) => encodeFloatFormat('float8e8m0', v))).toEqual([0, 0x7c, 0x7d, 0x7e, 0x80, 0x80, 0x81, 0x82]);
    expect(xs.map((v) => encodeFloatFormat('float8e8m0', v, { roundMode: 'down' }))).toEqual([0, 0x7b, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82]);
    expect([1.1, 1.5, 1.75, 2 ** -127, 1.5 * 2 ** -127].map((v) => encodeFloatFormat('float8e8m0', v, { roundMode: 'nearest' }))).toEqual([0x7f, 0x80, 0x80, 0x00, 0x01]);
    expect([NaN, Infinity, -Infinity, -2].map((v) => encodeFloatFormat('float8e8m0', v))).toEqual([0xff, 0xff, 0xff, 0x80]);
    expect(encodeFloatFormat('float8e8m0', 3e38)).toBe(0xfe);
    expect(encodeFloatFormat('float8e8m0', 3e38, { saturate: false })).toBe(0xff);
  });
  it('lists every format', () => {
    expect([...FLOAT_FORMATS].sort()).toEqual(['float4e2m1', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0']);
  });
});
