import { expect, it } from 'vitest';
import {
  concat, gather, gatherElements, kthSmallest, kthValue, oneHot, scatterAdd, scatterElements, slice, split, topk,
  tensor, transpose, sliceView, mul, ArgumentError, ShapeError, DTypeError,
} from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, stridesOf, unravel } from '@whittle/testing';

const ravel = (c: number[], shape: number[]) => c.reduce((p, v, d) => p + v * stridesOf(shape)[d]!, 0);

describeBackends('indexing ops', ({ backend }) => {
  const shape = [3, 4, 5];
  const data = randomData(60, 31);
  const x = () => tensor(Array.from(data), shape);

  it('gather with int32/int64 and negative indices along each axis', async () => {
    for (const axis of [0, 1, -1]) {
      const a = axis < 0 ? axis + 3 : axis;
      const d = shape[a]!;
      const idx = [d - 1, -1, 0, 1 - d, 1, 1];
      for (const dt of ['int32', 'int64'] as const) {
        const ind = tensor(idx, [2, 3], dt);
        const outShape = [...shape.slice(0, a), 2, 3, ...shape.slice(a + 1)];
        const n = outShape.reduce((p, v) => p + 0 * v, 0) + outShape.reduce((p, v) => p * v, 1);
        const ref = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const c = unravel(i, outShape);
          const j = idx[c[a]! * 3 + c[a + 1]!]!;
          const src = [...c.slice(0, a), j < 0 ? j + d : j, ...c.slice(a + 2)];
          ref[i] = data[ravel(src, shape)]!;
        }
        await expectClose(gather(x(), ind, axis), ref, outShape);
      }
    }
  });
  it('gather reads strided views and has a gradient (repeated indices accumulate)', async () => {
    const t = transpose(x(), [2, 0, 1]); // [5,3,4]
    const ind = tensor([4, 0, 4, 2], [4], 'int64');
    const ref = new Float64Array(4 * 12);
    for (let i = 0; i < 48; i++) {
      const [k, b, c] = unravel(i, [4, 3, 4]) as [number, number, number];
      ref[i] = data[ravel([b, c, [4, 0, 4, 2][k]!], shape)]!;
    }
    await expectClose(gather(t, ind, 0), ref, [4, 3, 4]);
    await checkGradients((v) => gather(v, ind, 1), [tensor(Array.from(randomData(15, 2)), [3, 5])]);
  });
  if (backend === 'cpu') {
    it('gather rejects out-of-range indices with a typed error (cpu)', () => {
      expect(() => gather(x(), tensor([0, 3], [2], 'int32'), 0)).toThrow(ArgumentError);
      expect(() => gather(x(), tensor([-4], [1], 'int32'), 0)).toThrow(/index -4 is out of range for axis 0 of size 3/);
      expect(() => gatherElements(x(), tensor(new Array(60).fill(9), shape, 'int32'), 2)).toThrow(/index 9 is out of range/);
    });
  }
  it('gatherElements, scatterElements and scatterAdd against float64', async () => {
    const ishape = [3, 2, 5];
    const idx = Array.from({ length: 30 }, (_, i) => ((i * 7) % 8) - 4); // in [-4, 3]
    const ind = tensor(idx, ishape, 'int64');
    const ge = new Float64Array(30);
    for (let i = 0; i < 30; i++) {
      const c = unravel(i, ishape);
      const j = idx[i]! < 0 ? idx[i]! + 4 : idx[i]!;
      ge[i] = data[ravel([c[0]!, j, c[2]!], shape)]!;
    }
    await expectClose(gatherElements(x(), ind, 1), ge, ishape);
    const upd = randomData(30, 8);
    const none = Float64Array.from(data);
    const addRef = Float64Array.from(data);
    for (let i = 0; i < 30; i++) {
      const c = unravel(i, ishape);
      const j = idx[i]! < 0 ? idx[i]! + 4 : idx[i]!;
      const q = ravel([c[0]!, j, c[2]!], shape);
      none[q] = upd[i]!;
      addRef[q] = addRef[q]! + upd[i]!;
    }
    const u = tensor(Array.from(upd), ishape);
    await expectClose(scatterElements(x(), ind, u, 1), none, shape);
    await expectClose(scatterAdd(x(), ind, u, 1), addRef, shape);
    await expectClose(scatterAdd(x(), ind, u, -2), addRef, shape);
  });
  it('gradients of gatherElements and scatterElements (none and add)', async () => {
    const ind = tensor([2, 0, 1, 1, 0, 2], [2, 3], 'int32');
    const b = tensor(Array.from(randomData(12, 3)), [4, 3]);
    const u = tensor(Array.from(randomData(6, 4)), [2, 3]);
    const uniq = tensor([2, 0, 1, 1, 3, 2], [2, 3], 'int32');
    await checkGradients((v) => gatherElements(v, ind, 0), [b]);
    await checkGradients((v, w) => scatterElements(v, uniq, w, 0), [b, u]);
    await checkGradients((v, w) => scatterAdd(v, ind, w, 0), [b, u]);
  });
  it('concat of many inputs (more than one GPU program), strided inputs, and its gradient', async () => {
    const parts = Array.from({ length: 13 }, (_, k) => randomData(3 * (k % 3 + 1) * 2, 100 + k));
    const ts = parts.map((p, k) => tensor(Array.from(p), [3, (k % 3) + 1, 2]));
    const total = ts.reduce((p, t) => p + t.shape[1]!, 0);
    const ref = new Float64Array(3 * total * 2);
    let at = 0;
    parts.forEach((p, k) => {
      const w = (k % 3) + 1;
      for (let i = 0; i < 3; i++) for (let j = 0; j < w; j++) for (let l = 0; l < 2; l++) ref[(i * total + at + j) * 2 + l] = p[(i * w + j) * 2 + l]!;
      at += w;
    });
    await expectClose(concat(ts, 1), ref, [3, total, 2]);
    const tt = transpose(tensor(Array.from(data.slice(0, 12)), [4, 3])); // [3,4]
    const r2 = new Float64Array(3 * 6);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 6; j++) r2[i * 6 + j] = j < 4 ? data[j * 3 + i]! : [7, 8][j - 4]! + i * 2;
    await expectClose(concat([tt, tensor([7, 8, 9, 10, 11, 12], [3, 2])], -1), r2, [3, 6]);
    await checkGradients((a, b2, c) => concat([a, b2, c], 0), [tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6], [1, 2]), tensor(Array.from(randomData(6, 1)), [3, 2])]);
  });
  it('split by sizes and by count, with gradient', async () => {
    const [a, b, c] = split(x(), [1, 3, 0], 1);
    expect([...a!.shape, ...b!.shape, ...c!.shape]).toEqual([3, 1, 5, 3, 3, 5, 3, 0, 5]);
    const ref = new Float64Array(45);
    for (let i = 0; i < 45; i++) {
      const [p, q, r] = unravel(i, [3, 3, 5]) as [number, number, number];
      ref[i] = data[ravel([p, q + 1, r], shape)]!;
    }
    await expectClose(b!, ref, [3, 3, 5]);
    const eq = split(x(), 2, -1);
    expect(eq.map((t) => t.shape[2])).toEqual([3, 2]);
    await checkGradients((v) => mul(split(v, [2, 3], 1)[1]!, split(v, [3, 2], 1)[0]!), [tensor(Array.from(randomData(10, 5)), [2, 5])]);
    expect(() => split(x(), [1, 2], 1)).toThrow(/sum to 3, axis 1 has length 4/);
  });
  it('slice with ONNX semantics: negative starts/ends/steps, clamping, axes', async () => {
    const refSlice = (starts: number[], steps: number[], outShape: number[]) => {
      const n = outShape.reduce((p, v) => p * v, 1);
      const r = new Float64Array(n);
      for (let i = 0; i < n; i++) r[i] = data[ravel(unravel(i, outShape).map((c, d) => starts[d]! + c * steps[d]!), shape)]!;
      return r;
    };
    // axis 2 backwards from the end, axis 0 from -1 to the start
    await expectClose(slice(x(), [-1, 100], [-100, 0], [0, 2], [-1, -2]), refSlice([2, 0, 4], [-1, 1, -2], [3, 4, 2]), [3, 4, 2]);
    await expectClose(slice(x(), [1, -3], [1000, -1], [1, -1]), refSlice([0, 1, 2], [1, 1, 1], [3, 3, 2]), [3, 3, 2]);
    await expectClose(slice(x(), [3], [0], [1], [-1]), refSlice([0, 3, 0], [1, -1, 1], [3, 3, 5]), [3, 3, 5]);
    expect([...slice(x(), [2], [1], [0]).shape]).toEqual([0, 4, 5]);
    // negative steps on a strided view
    const t = transpose(x(), [2, 1, 0]); // [5,4,3]
    const got = slice(t, [4, 3], [-10, -10], [0, 1], [-2, -3]); // [3,2,3]
    const r = new Float64Array(18);
    for (let i = 0; i < 18; i++) {
      const [p, q, s] = unravel(i, [3, 2, 3]) as [number, number, number];
      r[i] = data[ravel([s, 3 - 3 * q, 4 - 2 * p], shape)]!;
    }
    await expectClose(got, r, [3, 2, 3]);
    await checkGradients((v) => slice(v, [-1, 0], [-100, 100], [0, 1], [-2, 2]), [tensor(Array.from(randomData(20, 6)), [4, 5])]);
    await checkGradients((v) => slice(v, [1], [4], [1]), [tensor(Array.from(randomData(20, 6)), [4, 5])]);
    expect(() => slice(x(), [0], [1], [0], [0])).toThrow(ArgumentError);
    expect(() => slice(x(), [0], [1], [3])).toThrow(ShapeError);
  });
  it('topk largest/smallest with ties and kthValue / kthSmallest', async () => {
    const v = [3, 1, 3, 2, 5, 5, 0, 2];
    const t = tensor(v, [2, 4]);
    const { values, indices } = topk(t, 3, -1);
    expect(indices.dtype).toBe('int64');
    expect(Array.from(await values.toFloat64())).toEqual([3, 3, 2, 5, 5, 2]);
    expect(Array.from(await indices.data(), Number)).toEqual([0, 2, 3, 0, 1, 3]);
    const s = topk(t, 2, 0, false);
    expect(Array.from(await s.values.toFloat64())).toEqual([3, 1, 0, 2, 5, 5, 3, 2]);
    expect(Array.from(await s.indices.data(), Number)).toEqual([0, 0, 1, 0, 1, 1, 0, 1]);
    // random data vs a sort reference, on a transposed view
    const r = randomData(7 * 9, 12);
    const tt = transpose(tensor(Array.from(r), [9, 7])); // [7,9]
    const want: number[] = [];
    const wantI: number[] = [];
    for (let i = 0; i < 7; i++) {
      const line = Array.from({ length: 9 }, (_, j) => [r[j * 7 + i]!, j] as [number, number]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (let k = 0; k < 4; k++) {
        want.push(line[k]![0]);
        wantI.push(line[k]![1]);
      }
    }
    const big = topk(tt, 4, 1);
    await expectClose(big.values, want, [7, 4]);
    expect(Array.from(await big.indices.data(), Number)).toEqual(wantI);
    const kth = kthValue(tt, 3, 1);
    const kref = Array.from({ length: 7 }, (_, i) => Array.from({ length: 9 }, (_, j) => r[j * 7 + i]!).sort((a, b) => a - b)[2]!);
    await expectClose(kth, kref, [7]);
    const flat = Array.from(r).sort((a, b) => a - b);
    for (const k of [1, 17, 63]) expect(await kthSmallest(tensor(Array.from(r), [7, 9]), k)).toBe(Math.fround(flat[k - 1]!));
    await checkGradients((a) => topk(a, 2, 1).values, [tensor(Array.from(randomData(12, 14)), [3, 4])]);
    expect(() => topk(t, 5, 1)).toThrow(/k = 5 must be an integer in \[0, 4\]/);
  });
  it('oneHot with negative and out-of-range indices, any axis', async () => {
    const ind = tensor([0, 2, -1, 5, 1, -3], [2, 3], 'int64');
    const h = oneHot(ind, 3);
    expect(h.dtype).toBe('float32');
    const idx = [0, 2, -1, 5, 1, -3];
    const ref = new Float64Array(18);
    idx.forEach((j, i) => {
      const k = j < 0 ? j + 3 : j;
      if (k >= 0 && k < 3) ref[i * 3 + k] = 1;
    });
    await expectClose(h, ref, [2, 3, 3]);
    const h0 = oneHot(ind, 3, 0, [-1, 2]);
    const ref0 = new Float64Array(18).fill(-1);
    idx.forEach((j, i) => {
      const k = j < 0 ? j + 3 : j;
      if (k >= 0 && k < 3) ref0[k * 6 + i] = 2;
    });
    await expectClose(h0, ref0, [3, 2, 3]);
    expect(() => oneHot(tensor([1], [1]), 3)).toThrow(DTypeError);
  });
  it('bad arguments give typed errors', () => {
    expect(() => gather(x(), tensor([0], [1]), 0)).toThrow(/indices are float32; they must be int32 or int64/);
    expect(() => gather(x(), tensor([0], [1], 'int32'), 3)).toThrow(ShapeError);
    expect(() => gatherElements(x(), tensor([0], [1], 'int32'), 0)).toThrow(/rank/);
    expect(() => concat([x(), tensor([1], [1, 1, 1])], 0)).toThrow(ShapeError);
    expect(() => concat([], 0)).toThrow(ArgumentError);
    expect(() => kthValue(x(), 0, 1)).toThrow(ArgumentError);
    void sliceView;
  });
});
