import { expect, it } from 'vitest';
import { add, cast, decodeFloatFormat, encodeFloatFormat, engine, tensor, DTypeError, type FloatFormat } from '@whittle/tensor/node';
import { describeBackends } from '@whittle/testing';

const F8: FloatFormat[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0'];
const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const bytesOf = async (t: ReturnType<typeof tensor>): Promise<number[]> => {
  const d = await t.data();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
};

describeBackends('cast with float formats, bfloat16 and float64', ({ backend }) => {
  it.each(F8)('%s: all 256 codes decode to float32 exactly', async (f) => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const x = engine().fromStorage(f, [256], codes, backend);
    const got = await cast(x, 'float32').toFloat64();
    for (let c = 0; c < 256; c++) expect(same(got[c]!, Math.fround(decodeFloatFormat(f, c))), `${f} 0x${c.toString(16)}: ${got[c]}`).toBe(true);
  });
  it('float4e2m1: all 16 codes (packed) decode to float32 and float16', async () => {
    const x = engine().fromStorage('float4e2m1', [16], Uint8Array.from({ length: 8 }, (_, i) => (2 * i) | ((2 * i + 1) << 4)), backend);
    const want = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];
    expect(Array.from(await cast(x, 'float32').toFloat64())).toEqual(want);
    expect(Array.from(await cast(x, 'float16').toFloat64())).toEqual(want);
  });
  it('float32 → float8 rounds to nearest even, saturate on and off (ONNX conformance vectors)', async () => {
    const xs = [0.4789254665374756, 0.4996848702430725, 0.8191054463386536, 1e6, 1e-7, NaN, Infinity, -Infinity, -1e-7, -1e6, 464, 100];
    const x = tensor(xs, [xs.length]);
    for (const f of F8) {
      for (const saturate of [true, false]) {
        const want = xs.map((v) => encodeFloatFormat(f, v, { saturate }));
        expect(await bytesOf(cast(x, f, { saturate })), `${f} saturate=${saturate}`).toEqual(want);
      }
    }
    expect(await bytesOf(cast(x, 'float8e4m3fn'))).toEqual([0x2f, 0x30, 0x35, 0x7e, 0, 0x7f, 0x7e, 0xfe, 0x80, 0xfe, 0x7e, 0x6c]);
    expect(await bytesOf(cast(x, 'float8e5m2', { saturate: false }))).toEqual([0x38, 0x38, 0x3b, 0x7c, 0, 0x7e, 0x7c, 0xfc, 0x80, 0xfc, 0x5f, 0x56]);
  });
  it('float32 → float4e2m1 saturates, ties to even, NaN → 0b1000', async () => {
    const x = tensor([0.48, 0.25, 1.05, -3.5, -8, 9, NaN, -0, 0.75], [9]);
    const y = cast(x, 'float4e2m1');
    expect(y.dtype).toBe('float4e2m1');
    expect(Array.from(await cast(y, 'float32').toFloat64())).toEqual([0.5, 0, 1, -4, -6, 6, -0, -0, 1]);
    expect(await bytesOf(y)).toEqual([0x01, 0xe2, 0x7f, 0x88, 0x02]);
  });
  it('float8e8m0 round modes', async () => {
    const x = tensor([0, 0.124, 0.25, 1.1, 1.5, 8, -2, Infinity], [8]);
    expect(await bytesOf(cast(x, 'float8e8m0'))).toEqual([0, 0x7c, 0x7d, 0x80, 0x80, 0x82, 0x80, 0xff]);
    expect(await bytesOf(cast(x, 'float8e8m0', { roundMode: 'down' }))).toEqual([0, 0x7b, 0x7d, 0x7f, 0x7f, 0x82, 0x80, 0xff]);
    expect(await bytesOf(cast(x, 'float8e8m0', { roundMode: 'nearest' }))).toEqual([0, 0x7c, 0x7d, 0x7f, 0x80, 0x82, 0x80, 0xff]);
    expect(() => cast(x, 'float8e8m0', { roundMode: 'odd' as 'up' })).toThrow(DTypeError);
  });
  it('float16 → float8 and float8 → float8 / float16 / int32 / bool go through the exact value', async () => {
    const h = tensor([0.5, 300, -1.75, 65504], [4], 'float16');
    expect(await bytesOf(cast(h, 'float8e4m3fn'))).toEqual([0x30, 0x79, 0xbe, 0x7e]);
    const e5 = cast(h, 'float8e5m2');
    expect(await bytesOf(cast(e5, 'float8e4m3fnuz'))).toEqual([0x38, 0x7f, 0xc6, 0x7f]);
    expect(Array.from(await cast(e5, 'float16').toFloat64())).toEqual([0.5, 320, -1.75, 57344]);
    expect(Array.from<number | bigint>(await cast(e5, 'int32').data())).toEqual([0, 320, -1, 57344]);
    expect(Array.from<number | bigint>(await cast(e5, 'bool').data())).toEqual([1, 1, 1, 1]);
  });
  it('bfloat16: float32 → bfloat16 rounds to nearest even; back is exact', async () => {
    const xs = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.4789254665374756, NaN, Infinity, 3.4e38, 2 ** -130];
    const b = cast(tensor(xs, [xs.length]), 'bfloat16');
    expect(b.dtype).toBe('bfloat16');
    expect(Array.from<number | bigint>(await b.data())).toEqual([0x3f80, 0x3f82, 0xbef5, 0x7fc0, 0x7f80, 0x7f80, 0x0008]);
    const back = await cast(b, 'float32').toFloat64();
    expect(Array.from(back).slice(0, 3)).toEqual([1, 1 + 2 ** -6, -0.478515625]);
    expect(Array.from(await cast(b, 'float16').toFloat64()).slice(0, 2)).toEqual([1, 1.015625]);
  });
  it('float64 ↔ float32 / float16', async () => {
    const d = tensor([0.1, -2.5, 1e-8, 70000], [4], 'float64');
    expect(d.dtype).toBe('float64');
    expect(Array.from(await cast(d, 'float32').toFloat64())).toEqual([Math.fround(0.1), -2.5, Math.fround(1e-8), 70000]);
    expect(Array.from(await cast(d, 'float16').toFloat64())).toEqual([0.0999755859375, -2.5, 0, Infinity]);
    const back = cast(tensor([0.25, -3], [2]), 'float64');
    expect(back.dtype).toBe('float64');
    expect(Array.from<number | bigint>(await back.data())).toEqual([0.25, -3]);
  });
  it('storage-only dtypes are refused by compute kernels with a typed error', () => {
    const f8 = cast(tensor([1, 2], [2]), 'float8e4m3fn');
    expect(() => add(f8, f8)).toThrow(/storage-only dtype.*cast it to float32/);
    expect(() => add(f8, f8)).toThrow(DTypeError);
  });
});
