import { expect, it } from 'vitest';
import {
  argmax, argmin, l1Norm, l2Norm, logSoftmax, logSumExp, max, mean, min, prod, softmax, sum, sumSquare,
  tensor, transpose, sliceView, ShapeError, DTypeError, type Tensor,
} from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, stridesOf, unravel } from '@whittle/testing';

/** float64 reduction reference over `axes` (all when empty). */
function refReduce(data: Float64Array, shape: number[], axes: number[], keepDims: boolean, f: (v: number[]) => number) {
  const rank = shape.length;
  const ax = axes.length ? axes.map((a) => (a < 0 ? a + rank : a)) : shape.map((_, i) => i);
  const kept = shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const ks = stridesOf(kept);
  for (let i = 0; i < data.length; i++) {
    const c = unravel(i, shape);
    const o = c.reduce((p, v, d) => p + (ax.includes(d) ? 0 : v) * ks[d]!, 0);
    if (!groups.has(o)) groups.set(o, []);
    groups.get(o)!.push(data[i]!);
  }
  const n = kept.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  for (let o = 0; o < n; o++) out[o] = f(groups.get(o) ?? []);
  return { shape: keepDims ? kept : shape.filter((_, i) => !ax.includes(i)), data: out };
}

const lse = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((p, x) => p + Math.exp(x - m), 0));
};
const cases: [string, (x: Tensor, a?: number[], k?: boolean) => Tensor, (v: number[]) => number][] = [
  ['mean', mean, (v) => v.reduce((p, x) => p + x, 0) / v.length],
  ['max', max, (v) => Math.max(...v)],
  ['min', min, (v) => Math.min(...v)],
  ['prod', prod, (v) => v.reduce((p, x) => p * x, 1)],
  ['logSumExp', logSumExp, lse],
  ['l1Norm', l1Norm, (v) => v.reduce((p, x) => p + Math.abs(x), 0)],
  ['l2Norm', l2Norm, (v) => Math.sqrt(v.reduce((p, x) => p + x * x, 0))],
  ['sumSquare', sumSquare, (v) => v.reduce((p, x) => p + x * x, 0)],
  ['sum', sum, (v) => v.reduce((p, x) => p + x, 0)],
];

describeBackends('reductions', () => {
  const shape = [3, 5, 7];
  const data = randomData(105, 21);
  for (const [name, op, f] of cases) {
    it(`${name} over several axis sets, keepDims both ways, negative axes`, async () => {
      const x = tensor(Array.from(data), shape);
      for (const axes of [[1], [0, 2], [-1], [], [2, 0, 1]]) {
        for (const keep of [false, true]) {
          const ref = refReduce(data, shape, axes, keep, f);
          await expectClose(op(x, axes, keep), ref.data, ref.shape, 1e-4, 1e-5);
        }
      }
    });
    it(`${name} reads strided views`, async () => {
      const x = sliceView(transpose(tensor(Array.from(data), shape), [2, 0, 1]), [1, 0, 0], [7, 3, 5], [2, 1, 2]); // [3,3,3]
      const v = new Float64Array(27);
      for (let i = 0; i < 27; i++) {
        const [a, b, c] = unravel(i, [3, 3, 3]) as [number, number, number];
        v[i] = data[b * 35 + 2 * c * 7 + (1 + 2 * a)]!;
      }
      const ref = refReduce(v, [3, 3, 3], [0, 2], false, f);
      await expectClose(op(x, [0, 2]), ref.data, ref.shape);
    });
  }
  it('large reductions (workgroup tree path) match float64', async () => {
    const n = 20011;
    const big = randomData(n, 5);
    const x = tensor(Array.from(big), [n]);
    const s = big.reduce((p, v) => p + v, 0);
    await expectClose(sum(x), [s], [], 1e-4, 1e-3);
    await expectClose(mean(x), [s / n], [], 1e-4, 1e-6);
    await expectClose(max(x), [Math.max(...big)], []);
    await expectClose(logSumExp(x), [lse(Array.from(big))], [], 1e-5);
    await expectClose(l2Norm(x), [Math.sqrt(big.reduce((p, v) => p + v * v, 0))], [], 1e-5);
    // several outputs, each a long row, through a transposed view
    const m = randomData(3 * 1500, 6);
    const t = transpose(tensor(Array.from(m), [1500, 3]));
    const ref = refReduce(m, [1500, 3], [0], false, (v) => v.reduce((p, x) => p + x, 0));
    await expectClose(sum(t, [1]), ref.data, ref.shape, 1e-4, 1e-4);
    const ref2 = refReduce(m, [1500, 3], [0], true, (v) => Math.min(...v));
    await expectClose(min(t, [1], true), ref2.data, [3, 1]);
  });
  it('a full-tensor sum of 1e6 elements', async () => {
    const n = 1_000_000;
    const v = new Float32Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      v[i] = ((i * 7919) % 1000) / 1000;
      s += v[i]!;
    }
    const t0 = performance.now();
    const r = await sum(tensor(v, [n])).item();
    expect(Math.abs(r - s) / s).toBeLessThan(1e-5);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
  it('integer max/min/sum stay integers', async () => {
    const x = tensor([3, -7, 5, 2, 9, -1], [2, 3], 'int32');
    expect(Array.from<number | bigint>(await max(x, [1]).data())).toEqual([5, 9]);
    expect(Array.from<number | bigint>(await min(x, [0]).data())).toEqual([2, -7, -1]);
    expect(max(x).dtype).toBe('int32');
  });
  it('argmax / argmin with ties, keepDims and selectLastIndex → int64', async () => {
    const x = tensor([1, 5, 5, 0, 2, -3, 2, -3, 7, 7, 1, 1], [3, 4]);
    const a = argmax(x, 1, false);
    expect(a.dtype).toBe('int64');
    expect(Array.from(await a.data(), Number)).toEqual([1, 0, 0]);
    expect(Array.from(await argmax(x, 1, false, true).data(), Number)).toEqual([2, 2, 1]);
    expect(Array.from(await argmin(x, -1, false).data(), Number)).toEqual([3, 1, 2]);
    expect(Array.from(await argmin(x, -1, false, true).data(), Number)).toEqual([3, 3, 3]);
    const k = argmax(x, 0, true);
    expect([...k.shape]).toEqual([1, 4]);
    expect(Array.from(await k.data(), Number)).toEqual([2, 2, 0, 2]);
    // random data against a reference, on a transposed view
    const r = randomData(35, 9);
    const t = transpose(tensor(Array.from(r), [5, 7]));
    const want = Array.from({ length: 7 }, (_, j) => {
      let b = 0;
      for (let i = 1; i < 5; i++) if (r[i * 7 + j]! > r[b * 7 + j]!) b = i;
      return b;
    });
    expect(Array.from(await argmax(t, 1, false).data(), Number)).toEqual(want);
  });
  it('softmax and logSoftmax along any axis match float64', async () => {
    const x = tensor(Array.from(data), shape);
    for (const axis of [0, 1, -1]) {
      const a = axis < 0 ? axis + 3 : axis;
      const ref = new Float64Array(105);
      const lref = new Float64Array(105);
      const st = stridesOf(shape);
      for (let i = 0; i < 105; i++) {
        const c = unravel(i, shape);
        const line: number[] = [];
        for (let j = 0; j < shape[a]!; j++) line.push(data[i + (j - c[a]!) * st[a]!]!);
        ref[i] = Math.exp(data[i]! - lse(line));
        lref[i] = data[i]! - lse(line);
      }
      await expectClose(softmax(x, axis), ref, shape);
      await expectClose(logSoftmax(x, axis), lref, shape);
    }
    // stability: huge logits
    await expectClose(softmax(tensor([1000, 1001, 999], [3])), [0.24472847, 0.66524096, 0.09003057], [3]);
  });
  it('gradients of every reduction and of softmax / logSoftmax', async () => {
    const x = tensor(Array.from(randomData(30, 3)), [2, 3, 5]);
    for (const [, op] of cases) {
      await checkGradients((t) => op(t, [0, 2], true), [x], { maxChecks: 10 });
      await checkGradients((t) => op(t, [-1]), [x], { maxChecks: 10 });
    }
    await checkGradients((t) => softmax(t, 1), [x], { maxChecks: 12 });
    await checkGradients((t) => logSoftmax(t, -1), [x], { maxChecks: 12 });
    await checkGradients((t) => softmax(transpose(t, [2, 0, 1]), 0), [x], { maxChecks: 12 });
  });
  it('bad input gives typed errors naming the problem', () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    expect(() => mean(x, [2])).toThrow(ShapeError);
    expect(() => mean(x, [2])).toThrow(/axis 2 is out of range for rank 2/);
    expect(() => argmax(x, -3)).toThrow(/axis -3/);
    expect(() => softmax(tensor([1, 2], [2], 'int32'))).toThrow(DTypeError);
    expect(() => max(tensor([1, 0], [2], 'bool'))).toThrow(DTypeError);
  });
});
