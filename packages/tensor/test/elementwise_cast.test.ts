import { expect, it } from 'vitest';
import { cast, cos, sin, tensor, transpose, DTypeError, type DType } from '@whittle/tensor/node';
import { describeBackends, expectClose } from '@whittle/testing';
import { data } from './elementwise_reference.js';

/** ONNX/C integer cast of an integer value: two's complement modulo 2^bits. */
function wrapRef(v: number, bits: number, signed: boolean): number {
  const m = 2 ** bits;
  const u = ((v % m) + m) % m;
  return signed && u >= m / 2 ? u - m : u;
}

const INTS: [DType, number, boolean][] = [
  ['int8', 8, true],
  ['uint8', 8, false],
  ['int4', 4, true],
  ['uint4', 4, false],
  ['int2', 2, true],
  ['uint2', 2, false],
];

describeBackends('cast', ({ backend }) => {
  it('float32 → float16 rounds to nearest, ties to even, incl. subnormals', async () => {
    const xs = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20, 0.1, 65504, -(2 ** -24), 3 * 2 ** -26, 2 ** -14, -0.333333];
    const want = [1, 1 + 2 ** -9, 1 + 2 ** -10, 0.0999755859375, 65504, -(2 ** -24), 2 ** -24, 2 ** -14, -0.333251953125];
    const h = cast(tensor(xs, [xs.length]), 'float16');
    expect(h.dtype).toBe('float16');
    await expectClose(h, want, [xs.length], 0, 0);
    await expectClose(cast(h, 'float32'), want, [xs.length], 0, 0);
  });
  it('float → int truncates toward zero; NaN → 0; narrow ints wrap like C / ONNX', async () => {
    const xs = [2.7, -2.7, 127.9, 128.5, -129.2, 300, -0.5, NaN, 0, 1e10, -1e10];
    const x = tensor(xs, [xs.length]);
    const trunc = xs.map((v) => (Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v))) + 0));
    expect(Array.from<number | bigint>(await cast(x, 'int32').data())).toEqual(trunc);
    for (const [dt, bits, signed] of INTS) {
      expect(Array.from(await cast(x, dt).toFloat64()), dt).toEqual(trunc.map((v) => wrapRef(v, bits, signed)));
    }
    expect(Array.from<number | bigint>(await cast(x, 'bool').data())).toEqual(xs.map((v) => (v === 0 ? 0 : 1)));
    expect(Array.from<number | bigint>(await cast(tensor([2.9, -7.5], [2], 'float16'), 'int64').data())).toEqual([2n, -7n]);
  });
  it("float → int4 matches ONNX's test_cast_FLOAT_to_INT4 data (-9..15 wraps) and round-trips", async () => {
    const xs = Array.from({ length: 25 }, (_, i) => i - 9);
    const q = cast(tensor(xs, [5, 5]), 'int4');
    expect(q.dtype).toBe('int4');
    const bytes = Array.from<number | bigint>(await q.data());
    // ONNX reference output bytes of that conformance case
    expect(bytes).toEqual([0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f]);
    await expectClose(cast(q, 'float32'), xs.map((v) => wrapRef(v, 4, true)), [5, 5], 0, 0);
    await expectClose(cast(q, 'float16'), xs.map((v) => wrapRef(v, 4, true)), [5, 5], 0, 0);
  });
  it('packed sources and targets: int4/uint4/int2/uint2 ↔ int8/uint8/int32', async () => {
    const xs = [-8, -3, -1, 0, 1, 2, 5, 7, -6];
    for (const [dt, bits, signed] of INTS.slice(2)) {
      const vals = xs.map((v) => wrapRef(v, bits, signed));
      const p = tensor(vals, [vals.length], dt);
      expect(Array.from<number | bigint>(await cast(p, 'int32').data()), dt).toEqual(vals);
      expect(Array.from<number | bigint>(await cast(p, 'uint8').data()), dt).toEqual(vals.map((v) => wrapRef(v, 8, false)));
      const back = cast(cast(p, 'int8'), dt);
      expect(Array.from(await back.toFloat64()), dt).toEqual(vals);
      expect(Array.from(await cast(tensor(xs, [xs.length], 'int32'), dt).toFloat64()), dt).toEqual(xs.map((v) => wrapRef(v, bits, signed)));
    }
  });
  it('int ↔ int wraps, int → float16 rounds, bool ↔ numbers', async () => {
    expect(Array.from<number | bigint>(await cast(tensor([200, 255, 0, 127], [4], 'uint8'), 'int8').data())).toEqual([-56, -1, 0, 127]);
    expect(Array.from<number | bigint>(await cast(tensor([-1, -128, 5], [3], 'int8'), 'uint8').data())).toEqual([255, 128, 5]);
    expect(Array.from<number | bigint>(await cast(tensor([70000, -70000, 300], [3], 'int32'), 'int8').data())).toEqual([wrapRef(70000, 8, true), wrapRef(-70000, 8, true), 44]);
    expect(Array.from<number | bigint>(await cast(tensor([-5, 7], [2], 'int32'), 'int64').data())).toEqual([-5n, 7n]);
    expect(Array.from(await cast(tensor(new BigInt64Array([-5n, 7n]), [2], "int64"), 'float32').toFloat64())).toEqual([-5, 7]);
    await expectClose(cast(tensor([2049, 2051, -4097, 65504], [4], 'int32'), 'float16'), [2048, 2052, -4096, 65504], [4], 0, 0);
    expect(Array.from<number | bigint>(await cast(tensor([3, 0, -2], [3], 'int32'), 'bool').data())).toEqual([1, 0, 1]);
    await expectClose(cast(tensor([1, 0, 1], [3], 'bool'), 'float32'), [1, 0, 1], [3], 0, 0);
    expect(Array.from(await cast(tensor([1, 0], [2], 'bool'), 'int4').toFloat64())).toEqual([1, 0]);
  });
  it('int64 → int32 wraps modulo 2^32 (cpu; webgpu stores int64 as int32)', async () => {
    if (backend !== 'cpu') return;
    const big = tensor(new BigInt64Array([2n ** 32n + 5n, -(2n ** 31n) - 1n, 2n ** 40n + 200n]), [3], 'int64');
    expect(Array.from<number | bigint>(await cast(big, 'int32').data())).toEqual([5, 2147483647, 200]);
    expect(Array.from<number | bigint>(await cast(big, 'uint8').data())).toEqual([5, 255, 200]);
  });
  it('casts strided views', async () => {
    const v = data(35, 5, (x) => 4 * x);
    const t = transpose(tensor(Array.from(v), [5, 7]));
    const want: number[] = [];
    for (let j = 0; j < 7; j++) for (let i = 0; i < 5; i++) want.push(Math.trunc(v[i * 7 + j]!));
    expect(Array.from<number | bigint>(await cast(t, 'int32').data())).toEqual(want.map((w) => w + 0));
  });
  it('rejects unknown dtypes', () => {
    expect(() => cast(tensor([1], [1]), 'complex64' as DType)).toThrow(DTypeError);
    expect(() => cast(tensor([1], [1]), 'complex64' as DType)).toThrow(/unknown dtype 'complex64'/);
  });
  it('sin/cos stay accurate over [-60, 60]', async () => {
    const xs = Array.from({ length: 241 }, (_, i) => Math.fround(-60 + i * 0.5 + 0.013));
    await expectClose(sin(tensor(xs, [241])), xs.map(Math.sin), [241], 0, 2e-6);
    await expectClose(cos(tensor(xs, [241])), xs.map(Math.cos), [241], 0, 2e-6);
  });
});
