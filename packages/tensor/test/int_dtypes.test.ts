import { expect, it } from 'vitest';
import {
  add, sub, mul, div, maximum, less, greater, equal, cast, quantizeLinear, dequantizeLinear, tensor, transpose,
  DTypeError, type DType,
} from '@whittle/tensor/node';
import { describeBackends, roundHalfEven } from '@whittle/testing';

/** Two's complement wrap of a BigInt to `bits` (signed or unsigned), as C / ONNX integer arithmetic. */
function wrap(v: bigint, bits: number, signed: boolean): bigint {
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

/** Integer division truncating toward zero, in BigInt (BigInt `/` truncates). */
const tdiv = (a: bigint, b: bigint): bigint => a / b;

const rne = roundHalfEven;

const big = async (t: { data(): Promise<ArrayLike<number | bigint>> }): Promise<bigint[]> =>
  Array.from(await t.data(), (v) => BigInt(v));

/**
 * Operands per dtype, chosen to overflow and underflow (on the GPU uint64 lives in u32, so its
 * values stay below 2^32 and its wrap is tested on the cpu only, below).
 */
const CASES: [DType, number, boolean, number[], number[]][] = [
  ['int16', 16, true, [32767, -32768, 200, -7, 7, 0, 300], [1, -1, 300, 2, -2, 5, -200]],
  ['uint16', 16, false, [65535, 0, 300, 7, 40000, 9, 255], [1, 1, 300, 2, 3, 4, 257]],
  ['uint32', 32, false, [4294967295, 0, 70000, 7, 3000000000, 9, 65537], [1, 1, 70000, 2, 3, 4, 65537]],
  ['uint64', 64, false, [4000000000, 30, 70000, 7, 3000000000, 9, 65537], [5, 1, 3, 2, 3, 4, 2]],
];

describeBackends('int16 / uint16 / uint32 / uint64', ({ backend }) => {
  for (const [dtype, bits, signed, av, bv] of CASES) {
    it(`${dtype}: add/sub/mul wrap modulo 2^${bits}, div truncates, against BigInt`, async () => {
      const a = tensor(av, [av.length], dtype);
      const b = tensor(bv, [bv.length], dtype);
      const A = av.map(BigInt);
      const B = bv.map(BigInt);
      // results that leave 32 bits are only asserted where the backend can hold them (uint64 on cpu)
      const w = (v: bigint): bigint => wrap(v, dtype === 'uint64' && backend === 'webgpu' ? 32 : bits, signed);
      const ops: [string, typeof add, (x: bigint, y: bigint) => bigint][] = [
        ['add', add, (x, y) => x + y],
        ['sub', sub, (x, y) => x - y],
        ['mul', mul, (x, y) => x * y],
        ['div', div, tdiv],
      ];
      for (const [name, op, f] of ops) {
        const y = op(a, b);
        expect(y.dtype, name).toBe(dtype);
        expect(await big(y), name).toEqual(A.map((x, i) => w(f(x, B[i]!))));
      }
    });
    it(`${dtype}: comparisons and max are unsigned/signed as the dtype says`, async () => {
      const a = tensor(av, [av.length], dtype);
      const b = tensor(bv, [bv.length], dtype);
      const bool = (f: (x: number, y: number) => boolean): number[] => av.map((x, i) => (f(x, bv[i]!) ? 1 : 0));
      expect(Array.from<number | bigint>(await less(a, b).data())).toEqual(bool((x, y) => x < y));
      expect(Array.from<number | bigint>(await greater(a, b).data())).toEqual(bool((x, y) => x > y));
      expect(Array.from<number | bigint>(await equal(a, b).data())).toEqual(bool((x, y) => x === y));
      expect(await big(maximum(a, b))).toEqual(av.map((x, i) => BigInt(Math.max(x, bv[i]!))));
    });
  }
  it('int16: -32768 / -1 and strided views wrap like C', async () => {
    const a = tensor([-32768, 1, -32768, 3], [2, 2], 'int16');
    const b = tensor([-1, -1], [2, 1], 'int16');
    const y = div(transpose(a, [1, 0]), b); // [[-32768, -32768], [1, 3]] / [[-1], [-1]]
    expect(await big(y)).toEqual([-32768n, -32768n, -1n, -3n]);
  });
  it('cast: wraps between integer widths; float → uint32 keeps values above 2^31', async () => {
    const ints = [40000, -1, 65536, -32769, 2147483647, -2147483648];
    const x = tensor(ints, [ints.length], 'int32');
    expect(await big(cast(x, 'int16'))).toEqual(ints.map((v) => wrap(BigInt(v), 16, true)));
    expect(await big(cast(x, 'uint16'))).toEqual(ints.map((v) => wrap(BigInt(v), 16, false)));
    expect(await big(cast(x, 'uint32'))).toEqual(ints.map((v) => wrap(BigInt(v), 32, false)));
    const u = tensor([3000000000, 4294967295, 65535], [3], 'uint32');
    expect(await big(cast(u, 'int32'))).toEqual([3000000000n, 4294967295n, 65535n].map((v) => wrap(v, 32, true)));
    expect(await big(cast(u, 'int16'))).toEqual([3000000000n, 4294967295n, 65535n].map((v) => wrap(v, 16, true)));
    expect(Array.from<number | bigint>(await cast(u, 'float32').data())).toEqual([3000000000, 4294967296, 65535]);
    const f = tensor([3000000000, 2.9, 1e20, NaN, 65535.5], [5]);
    expect(await big(cast(f, 'uint32'))).toEqual([3000000000n, 2n, 4294967295n, 0n, 65535n]);
    expect(await big(cast(tensor([70000.7, 5], [2]), 'uint16'))).toEqual([wrap(70000n, 16, false), 5n]);
    const u64 = cast(tensor([7, 4000000000], [2], 'uint32'), 'uint64');
    expect(u64.dtype).toBe('uint64');
    expect(Array.from<number | bigint>(await u64.data())).toEqual([7n, 4000000000n]);
    expect(Array.from<number | bigint>(await cast(u64, 'float32').data())).toEqual([7, 4000000000]);
  });
  it('quantizeLinear to int16/uint16 saturates and rounds half to even; dequantize inverts', async () => {
    const xs = [0, 3, -3, 2.9, 5, 7, 65022, -66046, 70000, -70000, 1e9];
    const s = 2;
    for (const [dtype, zp, lo, hi] of [['int16', 256, -32768, 32767], ['uint16', 32767, 0, 65535]] as const) {
      const q = quantizeLinear(tensor(xs, [xs.length]), tensor([s], []), tensor([zp], [], dtype));
      expect(q.dtype).toBe(dtype);
      const want = xs.map((v) => Math.min(hi, Math.max(lo, rne(v / s) + zp)));
      expect(Array.from(await q.toFloat64()), dtype).toEqual(want);
      const d = dequantizeLinear(q, tensor([s], []), tensor([zp], [], dtype));
      expect(Array.from(await d.toFloat64()), dtype).toEqual(want.map((v) => (v - zp) * s));
    }
  });
  it('storage round-trips: Int16Array, Uint16Array, Uint32Array, BigUint64Array', async () => {
    const t16 = tensor(Int16Array.of(-32768, 32767), [2], 'int16');
    expect(await t16.data()).toEqual(Int16Array.of(-32768, 32767));
    expect(await tensor(Uint16Array.of(65535, 1), [2], 'uint16').data()).toEqual(Uint16Array.of(65535, 1));
    expect(await tensor(Uint32Array.of(4294967295, 1), [2], 'uint32').data()).toEqual(Uint32Array.of(4294967295, 1));
    expect(await tensor(BigUint64Array.of(4294967295n, 0n), [2], 'uint64').data()).toEqual(BigUint64Array.of(4294967295n, 0n));
    expect(() => tensor(Int32Array.of(1), [1], 'int16')).toThrow(DTypeError);
  });
  if (backend === 'cpu') {
    it('uint64 wraps modulo 2^64 on the cpu', async () => {
      const a = tensor(BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 40n), [3], 'uint64');
      const b = tensor(BigUint64Array.of(1n, 2n, 2n ** 30n), [3], 'uint64');
      expect(await big(sub(a, b))).toEqual([2n ** 64n - 1n, 2n ** 64n - 3n, 2n ** 40n - 2n ** 30n]);
      expect(await big(add(a, b))).toEqual([1n, 1n, 2n ** 40n + 2n ** 30n]);
      expect(await big(mul(a, b))).toEqual([0n, 2n ** 64n - 2n, 2n ** 70n % 2n ** 64n]);
    });
  } else {
    it('uint64 beyond 2^32 is refused on upload to the GPU (stored as u32 there)', () => {
      expect(() => tensor(BigUint64Array.of(2n ** 40n), [1], 'uint64')).toThrow(/uint64 as uint32/);
    });
  }
});
