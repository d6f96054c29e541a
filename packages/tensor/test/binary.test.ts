import { expect, it } from 'vitest';
import { add, sub, mul, div, pow, maximum, less, sum, tensor, transpose, sliceView, expand, reshape, DTypeError, ShapeError } from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, unravel, stridesOf } from '@whittle/testing';

/** float64 broadcasting reference. */
function refBinary(a: Float64Array, as: number[], b: Float64Array, bs: number[], f: (x: number, y: number) => number) {
  const rank = Math.max(as.length, bs.length);
  const pa = [...new Array(rank - as.length).fill(1), ...as];
  const pb = [...new Array(rank - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    let ia = 0;
    let ib = 0;
    idx.forEach((c, d) => {
      ia += (pa[d] === 1 ? 0 : c) * sa[d]!;
      ib += (pb[d] === 1 ? 0 : c) * sb[d]!;
    });
    out[i] = f(a[ia]!, b[ib]!);
  }
  return { shape, data: out };
}

describeBackends('binary ops', () => {
  const cases: [string, typeof add, (x: number, y: number) => number][] = [
    ['add', add, (x, y) => x + y],
    ['sub', sub, (x, y) => x - y],
    ['mul', mul, (x, y) => x * y],
    ['div', div, (x, y) => x / y],
    ['maximum', maximum, (x, y) => Math.max(x, y)],
  ];
  for (const [name, op, f] of cases) {
    it(`${name} broadcasts odd shapes against float64`, async () => {
      const as = [3, 1, 7];
      const bs = [5, 1];
      const a = randomData(21, 1);
      const b = randomData(5, 2);
      const ref = refBinary(a, as, b, bs, f);
      await expectClose(op(tensor(Array.from(a), as), tensor(Array.from(b), bs)), ref.data, ref.shape);
    });
  }
  it('pow follows C semantics for negative bases', async () => {
    const a = tensor([-2, -2, 2, 0, 3], [5]);
    const b = tensor([3, 2, 0.5, 0, -1], [5]);
    await expectClose(pow(a, b), [-8, 4, Math.SQRT2, 1, 1 / 3], [5]);
  });
  it('comparisons give bool', async () => {
    const r = less(tensor([1, 2, 3], [3]), tensor([2, 2, 2], [3]));
    expect(r.dtype).toBe('bool');
    expect(Array.from<number | bigint>(await r.data())).toEqual([1, 0, 0]);
  });
  it('reads strided views (transpose, slice, expand)', async () => {
    const a = randomData(24, 3);
    const t = transpose(tensor(Array.from(a), [2, 3, 4]), [2, 0, 1]); // [4,2,3]
    const s = sliceView(t, [1, 0, 0], [4, 2, 3], [2, 1, 2]); // [2,2,2]
    const e = expand(tensor([1, 2], [2, 1]), [2, 2, 2]);
    const ref = new Float64Array(8);
    for (let i = 0; i < 8; i++) {
      const [x, y, z] = unravel(i, [2, 2, 2]) as [number, number, number];
      const k = 1 + 2 * x; // axis 0 of t = axis 2 of a
      const j = y; // axis 1 of t = axis 0 of a
      const l = 2 * z; // axis 2 of t = axis 1 of a
      ref[i] = a[j * 12 + l * 4 + k]! + (y === 0 ? 1 : 2);
    }
    await expectClose(add(s, e), ref, [2, 2, 2]);
  });
  it('integer add and division truncate', async () => {
    const r = div(tensor([7, -7, 9], [3], 'int32'), tensor([2, 2, 4], [3], 'int32'));
    expect(Array.from<number | bigint>(await r.data())).toEqual([3, -3, 2]);
  });
  it('rejects mixed dtypes and bad broadcasts with typed errors', () => {
    expect(() => add(tensor([1], [1]), tensor([1], [1], 'int32'))).toThrow(DTypeError);
    expect(() => add(tensor([1, 2], [2]), tensor([1, 2, 3], [3]))).toThrow(ShapeError);
  });
  it('gradients of add/mul/sub with broadcasting and views', async () => {
    const a = tensor(Array.from(randomData(12, 4)), [3, 4]);
    const b = tensor(Array.from(randomData(4, 5)), [4]);
    await checkGradients((x, y) => mul(add(x, y), sub(x, reshape(y, [1, 4]))), [a, b]);
    await checkGradients((x) => sum(sliceView(transpose(x), [1, 0], [4, 3], [2, 1]), [0]), [a]);
  });
});

describeBackends('binary ops on float16', () => {
  it('computes on decoded halves and rounds the result', async () => {
    const a = tensor([1.5, 2, 65504, 0.1], [4], 'float16');
    const r = add(a, a);
    expect(r.dtype).toBe('float16');
    // 0.1 in half is 0.0999755859375; doubled exactly representable; 65504*2 overflows to inf
    await expectClose(r, [3, 4, Infinity, 0.199951171875], [4], 0, 0);
    const m = mul(tensor([3, -0.5], [2], 'float16'), tensor([1.25, 4], [2], 'float16'));
    await expectClose(m, [3.75, -2], [2], 0, 0);
  });
});
