import { expect, it } from 'vitest';
import {
  abs, ceil, clip, cos, erf, exp, floor, gelu, hardSigmoid, hardSwish, leakyRelu, log, logicalNot, neg,
  reciprocal, relu, round, sigmoid, sign, sin, softplus, sqrt, tanh, where, greater, tensor, transpose,
  float16BitsToFloat32, float32ToFloat16Bits, mulScalar, addScalar, ArgumentError, DTypeError, ShapeError, type Tensor,
} from '@whittle/tensor/node';
import { describeBackends, expectClose, stridesOf, unravel } from '@whittle/testing';
import { data, refErf, refRound, refSigmoid, stridedView } from './elementwise_reference.js';

type Op = (x: Tensor) => Tensor;
const K = Math.sqrt(2 / Math.PI);
const pos = (x: number): number => Math.abs(x) + 0.1;
const nonzero = (x: number): number => Math.sign(x || 1) * (Math.abs(x) + 0.2);
const wide = (x: number): number => 3 * x;

// [name, op, float64 reference, input domain]
const UNARY: [string, Op, (x: number) => number, (x: number) => number][] = [
  ['neg', neg, (x) => -x, wide],
  ['abs', abs, Math.abs, wide],
  ['exp', exp, Math.exp, (x) => 2 * x],
  ['log', log, Math.log, pos],
  ['sqrt', sqrt, Math.sqrt, pos],
  ['reciprocal', reciprocal, (x) => 1 / x, nonzero],
  ['sin', sin, Math.sin, wide],
  ['cos', cos, Math.cos, wide],
  ['floor', floor, Math.floor, wide],
  ['ceil', ceil, Math.ceil, wide],
  ['round', round, refRound, (x) => Math.round(8 * x) / 4], // many exact halves
  ['sign', sign, Math.sign, (x) => Math.round(2 * x)], // includes zeros
  ['relu', relu, (x) => Math.max(x, 0), wide],
  ['sigmoid', sigmoid, refSigmoid, (x) => 6 * x],
  ['tanh', tanh, Math.tanh, wide],
  ['erf', erf, refErf, wide],
  ['gelu', gelu, (x) => 0.5 * x * (1 + refErf(x / Math.SQRT2)), wide],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' }), (x) => 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x ** 3))), wide],
  ['leakyRelu', (x) => leakyRelu(x, 0.15), (x) => (x >= 0 ? x : 0.15 * x), wide],
  ['hardSigmoid', (x) => hardSigmoid(x, 0.3, 0.4), (x) => Math.min(1, Math.max(0, 0.3 * x + 0.4)), wide],
  ['hardSwish', hardSwish, (x) => x * Math.min(1, Math.max(0, (x + 3) / 6)), wide],
  ['softplus', softplus, (x) => Math.log(1 + Math.exp(x)), wide],
];

const f16 = (x: number): number => float16BitsToFloat32(float32ToFloat16Bits(x));

describeBackends('elementwise unary ops', () => {
  UNARY.forEach(([name, op, ref, domain], k) => {
    it(`${name}: odd-size contiguous and strided view inputs vs float64`, async () => {
      const a = data(37, 100 + k, domain);
      await expectClose(op(tensor(Array.from(a), [37])), a.map(ref), [37]);
      const s = stridedView(data(105, 200 + k, domain));
      await expectClose(op(s.view), s.values.map(ref), [4, 3, 2]);
    });
    it(`${name}: float16 computes in float32 and rounds the result`, async () => {
      const a = data(19, 300 + k, (x) => f16(domain(x)));
      const y = op(tensor(Array.from(a), [19], 'float16'));
      expect(y.dtype).toBe('float16');
      await expectClose(y, a.map((x) => f16(ref(x))), [19], 2e-3, 1e-4);
    });
  });

  it('erf is accurate to 1e-6 on a dense grid over [-6, 6]', async () => {
    const xs = Array.from({ length: 481 }, (_, i) => Math.fround(-6 + i * 0.025));
    await expectClose(erf(tensor(xs, [481])), xs.map(refErf), [481], 0, 1e-6);
  });
  it('sigmoid, tanh, softplus and gelu stay finite and exact-ish for huge |x|', async () => {
    const xs = [-1000, -90, -30, 30, 90, 1000];
    await expectClose(sigmoid(tensor(xs, [6])), xs.map(refSigmoid), [6], 1e-5, 1e-30);
    await expectClose(tanh(tensor(xs, [6])), xs.map(Math.tanh), [6]);
    await expectClose(softplus(tensor(xs, [6])), xs.map((x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))), [6], 1e-5, 1e-30);
    await expectClose(gelu(tensor(xs, [6])), xs.map((x) => (x > 0 ? x : 0)), [6]);
    await expectClose(gelu(tensor(xs, [6]), { approximate: 'tanh' }), xs.map((x) => (x > 0 ? x : 0)), [6]);
  });
  it('round halves to even', async () => {
    const xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, -3.7];
    expect(Array.from(await round(tensor(xs, [9])).toFloat64())).toEqual([-2, -2, -0, 0, 2, 2, 4, 2, -4]);
  });
  it('integer neg/abs/sign/relu/clip (int32, int8 wrapping, uint8)', async () => {
    const v = [-128, -7, 0, 5, 127];
    const i8 = tensor(v, [5], 'int8');
    expect(Array.from<number | bigint>(await neg(i8).data())).toEqual([-128, 7, 0, -5, -127]); // -(-128) wraps
    expect(Array.from<number | bigint>(await abs(tensor(v, [5], 'int32')).data())).toEqual([128, 7, 0, 5, 127]);
    expect(Array.from<number | bigint>(await sign(tensor(v, [5], 'int32')).data())).toEqual([-1, -1, 0, 1, 1]);
    expect(Array.from<number | bigint>(await relu(i8).data())).toEqual([0, 0, 0, 5, 127]);
    expect(Array.from<number | bigint>(await abs(tensor([0, 200, 255], [3], 'uint8')).data())).toEqual([0, 200, 255]);
    expect(Array.from<number | bigint>(await clip(tensor(v, [5], 'int32'), -10, 6).data())).toEqual([-10, -7, 0, 5, 6]);
    expect(Array.from<number | bigint>(await clip(tensor(v, [5], 'int64'), -10, 6).data())).toEqual([-10n, -7n, 0n, 5n, 6n]);
    expect(Array.from<number | bigint>(await clip(tensor(v, [5], 'int64'), -1e10, 1e10).data())).toEqual(v.map(BigInt));
  });
  it('logicalNot on bool', async () => {
    const y = logicalNot(tensor([1, 0, 0, 1, 1], [5], 'bool'));
    expect(y.dtype).toBe('bool');
    expect(Array.from<number | bigint>(await y.data())).toEqual([0, 1, 1, 0, 0]);
  });
});

describeBackends('clip, where, scalar helpers', () => {
  it('clip with both, one or no bounds on a strided view; NaN passes; min > max gives max', async () => {
    const s = stridedView(data(105, 7, (x) => 2 * x));
    await expectClose(clip(s.view, -0.5, 0.75), s.values.map((x) => Math.min(0.75, Math.max(-0.5, x))), [4, 3, 2]);
    await expectClose(clip(s.view, undefined, 0.25), s.values.map((x) => Math.min(0.25, x)), [4, 3, 2]);
    await expectClose(clip(s.view, -0.25), s.values.map((x) => Math.max(-0.25, x)), [4, 3, 2]);
    await expectClose(clip(s.view), s.values, [4, 3, 2]);
    const odd = tensor([NaN, -3, 3, 0.5], [4]);
    await expectClose(clip(odd, -1, 1), [NaN, -1, 1, 0.5], [4]);
    await expectClose(clip(odd, 2, 1), [NaN, 1, 1, 1], [4]);
    const h = clip(tensor([-3, 0.3, 3], [3], 'float16'), -1, 0.1);
    expect(h.dtype).toBe('float16');
    await expectClose(h, [-1, f16(0.1), f16(0.1)], [3], 0, 0);
  });
  it('where broadcasts cond, a and b three ways (and reads strided views)', async () => {
    const cs = [3, 1, 5];
    const cv = data(15, 21).map((x) => (x > 0 ? 1 : 0));
    const av = data(20, 22);
    const bv = data(3, 23);
    const cond = tensor(Array.from(cv), cs, 'bool');
    const aT = transpose(tensor(Array.from(av), [5, 4])); // [4,5] view, non-contiguous
    const b = tensor(Array.from(bv), [3, 1, 1]);
    const y = where(cond, aT, b);
    const shape = [3, 4, 5];
    const ref = new Float64Array(60);
    const sc = stridesOf(cs);
    for (let i = 0; i < 60; i++) {
      const [p, q, r] = unravel(i, shape) as [number, number, number];
      ref[i] = cv[p * sc[0]! + r]! ? av[r * 4 + q]! : bv[p]!;
    }
    await expectClose(y, ref, shape, 0, 0);
    const yi = where(greater(tensor([1, -1, 2], [3]), tensor([0], [1])), tensor([1, 2, 3], [3], 'int32'), tensor([-9], [], 'int32'));
    expect(Array.from<number | bigint>(await yi.data())).toEqual([1, -9, 3]);
    const y64 = where(tensor([1, 0, 1], [3], 'bool'), tensor(new BigInt64Array([4n, 5n, 6n]), [3], 'int64'), tensor(new BigInt64Array([-1n]), [], 'int64'));
    expect(Array.from<number | bigint>(await y64.data())).toEqual([4n, -1n, 6n]);
    const y16 = where(tensor([0, 1], [2], 'bool'), tensor([0.1, 0.2], [2], 'float16'), tensor([0.3], [1], 'float16'));
    await expectClose(y16, [f16(0.3), f16(0.2)], [2], 0, 0);
  });
  it('mulScalar and addScalar keep dtype and backend', async () => {
    const x = tensor([1, -2, 3.5], [3]);
    await expectClose(mulScalar(x, -2), [-2, 4, -7], [3]);
    await expectClose(addScalar(x, 0.5), [1.5, -1.5, 4], [3]);
    expect(Array.from<number | bigint>(await addScalar(tensor([1, 2], [2], 'int32'), 3).data())).toEqual([4, 5]);
  });
  it('rejects bad dtypes and arguments with typed errors that name the problem', () => {
    const b = tensor([1, 0], [2], 'bool');
    expect(() => relu(b)).toThrow(DTypeError);
    expect(() => relu(b)).toThrow(/Relu.*bool/);
    expect(() => exp(tensor([1], [1], 'int32'))).toThrow(/Exp: input has dtype int32/);
    expect(() => neg(tensor([1], [1], 'uint8'))).toThrow(DTypeError);
    expect(() => logicalNot(tensor([1], [1]))).toThrow(DTypeError);
    expect(() => clip(b, 0, 1)).toThrow(DTypeError);
    expect(() => clip(tensor([1], [1], 'int32'), 0.5)).toThrow(ArgumentError);
    expect(() => gelu(tensor([1], [1]), { approximate: 'fast' as 'tanh' })).toThrow(ArgumentError);
    expect(() => leakyRelu(tensor([1], [1]), NaN)).toThrow(ArgumentError);
    expect(() => where(tensor([1], [1]), tensor([1], [1]), tensor([1], [1]))).toThrow(/cond has dtype float32/);
    expect(() => where(b, tensor([1], [1]), tensor([1], [1], 'int32'))).toThrow(DTypeError);
    expect(() => where(b, tensor([1, 2, 3], [3]), tensor([1], [1]))).toThrow(ShapeError);
    expect(() => mulScalar(b, 2)).toThrow(DTypeError);
  });
});
