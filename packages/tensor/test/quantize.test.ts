import { expect, it } from 'vitest';
import {
  dequantizeLinear, dynamicQuantizeLinear, quantizeLinear, tensor, transpose, intRange,
  ArgumentError, DTypeError, ShapeError, type DType,
} from '@whittle/tensor/node';
import { describeBackends, expectClose, randomData, unravel, roundHalfEven } from '@whittle/testing';

const rne = roundHalfEven;

/** float64 reference: q = clamp(rne(x / s) + zp) with the scale index per element. */
function refQuant(x: ArrayLike<number>, s: number[], zp: number[], at: (i: number) => number, dtype: DType, f32Div = false) {
  const [lo, hi] = intRange(dtype);
  return Array.from(x, (v, i) => {
    const k = at(i);
    const r = f32Div ? Math.fround(v / s[k]!) : v / s[k]!;
    return Math.min(hi, Math.max(lo, rne(r) + zp[k]!));
  });
}

const ALL: DType[] = ['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint2'];

describeBackends('quantize / dequantize', () => {
  it('per-tensor: ties to even and saturation for every quant dtype, round trip', async () => {
    const s = 0.25;
    // ties (k + 0.5) * s for k in -6..5, plus values far outside every range
    const xs = [...Array.from({ length: 12 }, (_, k) => (k - 6 + 0.5) * s), 1000, -1000, 0.3, -0.3, 0];
    for (const dtype of ALL) {
      const [lo, hi] = intRange(dtype);
      const zp = dtype.startsWith('u') ? Math.floor((hi + 1) / 2) : lo === -2 ? -1 : 1;
      const ref = refQuant(xs, [s], [zp], () => 0, dtype);
      const q = quantizeLinear(tensor(xs, [xs.length]), tensor([s], []), tensor([zp], [], dtype));
      expect(q.dtype).toBe(dtype);
      expect(Array.from(await q.toFloat64())).toEqual(ref);
      const dq = dequantizeLinear(q, tensor([s], [1]), tensor([zp], [1], dtype));
      await expectClose(dq, ref.map((v) => (v - zp) * s), [xs.length]);
      // no zero point: default 0 of the dtype
      const q0 = quantizeLinear(tensor(xs, [xs.length]), tensor([s], []), undefined, { dtype });
      expect(Array.from(await q0.toFloat64())).toEqual(refQuant(xs, [s], [0], () => 0, dtype));
    }
  });
  it('per-axis on axis 0 and default axis 1, strided input', async () => {
    const shape = [3, 5, 2];
    const data = randomData(30, 4, 2);
    const x = tensor(Array.from(data), shape);
    const s1 = [0.05, 0.11, 0.031, 0.2, 0.07];
    const z1 = [0, -3, 5, 127, -128];
    const q = quantizeLinear(x, tensor(s1, [5]), tensor(z1, [5], 'int8'));
    const at1 = (i: number) => unravel(i, shape)[1]!;
    const ref = refQuant(data, s1, z1, at1, 'int8', true);
    expect(Array.from(await q.toFloat64())).toEqual(ref);
    await expectClose(dequantizeLinear(q, tensor(s1, [5]), tensor(z1, [5], 'int8')), ref.map((v, i) => (v - z1[at1(i)]!) * s1[at1(i)]!), shape, 1e-6, 1e-7);
    // axis 0 of a transposed view [2,5,3]
    const t = transpose(x, [2, 1, 0]);
    const tv = Array.from({ length: 30 }, (_, i) => {
      const [a, b, c] = unravel(i, [2, 5, 3]) as [number, number, number];
      return data[c * 10 + b * 2 + a]!;
    });
    const s0 = [0.013, 0.09];
    const q0 = quantizeLinear(t, tensor(s0, [2]), tensor([3, 200], [2], 'uint8'), { axis: 0 });
    expect(Array.from(await q0.toFloat64())).toEqual(refQuant(tv, s0, [3, 200], (i) => unravel(i, [2, 5, 3])[0]!, 'uint8', true));
  });
  it('block-wise with a ragged last block (axis 1 and axis 0), int4 and uint4', async () => {
    const shape = [3, 10];
    const data = randomData(30, 9, 1.5);
    const x = tensor(Array.from(data), shape);
    const bs = 4; // blocks 4, 4, 2
    const sc = Array.from({ length: 9 }, (_, i) => 0.05 + 0.02 * i);
    const zp = Array.from({ length: 9 }, (_, i) => (i % 5) - 2);
    const at = (i: number) => {
      const [r, c] = unravel(i, shape) as [number, number];
      return r * 3 + Math.floor(c / bs);
    };
    const q = quantizeLinear(x, tensor(sc, [3, 3]), tensor(zp, [3, 3], 'int4'), { axis: 1, blockSize: bs });
    const ref = refQuant(data, sc, zp, at, 'int4', true);
    expect(q.dtype).toBe('int4');
    expect(Array.from(await q.toFloat64())).toEqual(ref);
    const dq = dequantizeLinear(q, tensor(sc, [3, 3]), tensor(zp, [3, 3], 'int4'), { axis: 1, blockSize: bs });
    await expectClose(dq, ref.map((v, i) => (v - zp[at(i)]!) * sc[at(i)]!), shape, 1e-6, 1e-7);
    // axis 0, block 2 over 3 rows: blocks {0,1}, {2}
    const sc0 = Array.from({ length: 20 }, (_, i) => 0.1 + 0.01 * i);
    const at0 = (i: number) => {
      const [r, c] = unravel(i, shape) as [number, number];
      return Math.floor(r / 2) * 10 + c;
    };
    const q0 = quantizeLinear(x, tensor(sc0, [2, 10]), undefined, { axis: 0, blockSize: 2, dtype: 'uint4' });
    const ref0 = refQuant(data, sc0, new Array(20).fill(0), at0, 'uint4', true);
    expect(Array.from(await q0.toFloat64())).toEqual(ref0);
    await expectClose(dequantizeLinear(q0, tensor(sc0, [2, 10]), undefined, { axis: 0, blockSize: 2 }), ref0.map((v, i) => v * sc0[at0(i)]!), shape, 1e-6, 1e-7);
  });
  it('dequantizes packed int2/uint2/int4 and int32 inputs', async () => {
    const v = [-2, -1, 0, 1, 1, -2, 0];
    await expectClose(dequantizeLinear(tensor(v, [7], 'int2'), tensor([0.5], [])), v.map((k) => k * 0.5), [7]);
    const w = [0, 3, 2, 1, 3];
    await expectClose(dequantizeLinear(tensor(w, [5], 'uint2'), tensor([2], []), tensor([1], [], 'uint2')), w.map((k) => (k - 1) * 2), [5]);
    await expectClose(dequantizeLinear(tensor([100000, -7], [2], 'int32'), tensor([0.001], [])), [100, -0.007], [2], 1e-6);
  });
  it('dynamicQuantizeLinear matches the ONNX formula', async () => {
    for (const vals of [Array.from(randomData(37, 3, 4)), [0.5, 1.5, 2.5, 3], [-3, -1, -2], [0, 0, 0]]) {
      const { y, scale, zeroPoint } = dynamicQuantizeLinear(tensor(vals, [vals.length]));
      const lo = Math.min(0, ...vals);
      const hi = Math.max(0, ...vals);
      const s = Math.fround((hi - lo) / 255);
      expect(await scale.item()).toBeCloseTo(s, 7);
      if (s === 0) {
        expect(await zeroPoint.item()).toBe(0);
        expect(Array.from(await y.toFloat64())).toEqual(vals.map(() => 0));
        continue;
      }
      const zp = rne(Math.min(255, Math.max(0, -lo / s)));
      expect(await zeroPoint.item()).toBe(zp);
      expect(y.dtype).toBe('uint8');
      expect(Array.from(await y.toFloat64())).toEqual(refQuant(vals, [s], [zp], () => 0, 'uint8', true));
    }
  });
  it('bad input gives typed errors naming the problem', () => {
    const x = tensor(Array.from(randomData(12, 1)), [3, 4]);
    const s32 = tensor([1, 1, 1, 1, 1, 1], [3, 2]);
    expect(() => quantizeLinear(x, s32, undefined, { axis: 1, blockSize: 0 })).toThrow(ArgumentError);
    expect(() => quantizeLinear(x, s32, undefined, { axis: 1, blockSize: 2.5 })).toThrow(/block size 2.5 must be a positive integer/);
    expect(() => quantizeLinear(x, s32, undefined, { axis: 1, blockSize: -2 })).toThrow(/block size -2 must be a positive integer/);
    expect(() => quantizeLinear(x, tensor([1, 1, 1, 1, 1, 1], [3, 2]), undefined, { axis: 1, blockSize: 1 })).toThrow(/needs a scale of shape \[3,4\], got \[3,2\]/);
    expect(() => quantizeLinear(x, tensor([1, 1, 1], [3]), undefined, { axis: 3 })).toThrow(ShapeError);
    expect(() => quantizeLinear(x, tensor([1, 1, 1], [3]))).toThrow(/per-axis scale on axis 1/);
    expect(() => quantizeLinear(x, tensor([1], []), tensor([0], [], 'int8'), { dtype: 'uint8' })).toThrow(DTypeError);
    expect(() => quantizeLinear(x, tensor([1], []), undefined, { dtype: 'int32' })).toThrow(/not one of/);
    expect(() => dequantizeLinear(x, tensor([1], []))).toThrow(DTypeError);
  });
});
