import { expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, ShapeError, avgPool2d, batchNorm, col2im, conv2d, convTranspose2d, globalAvgPool, globalMaxPool, im2col,
  maxPool2d, pad, sliceView, tensor, transpose, type Tensor,
} from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, distinctValues } from '@whittle/testing';
import { defined, refConv, refConvT, refIm2Col, refPad, refPool } from './conv_reference.js';

const t = (d: Float64Array, shape: number[]): Tensor => tensor(Array.from(d), shape);
const n = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const distinct = distinctValues;

describeBackends('conv family', ({ backend }) => {
  const gpu = backend === 'webgpu';
  const maxChecks = gpu ? 8 : 24;

  it('im2col and col2im match float64 loops (asymmetric pads, strides, dilation)', async () => {
    const xs = [2, 3, 7, 9];
    const x = randomData(n(xs), 1);
    const geo = { strides: [2, 1], pads: [1, 0, 2, 1], dil: [2, 1] };
    const ref = refIm2Col(x, xs, [3, 2], geo);
    const col = im2col(t(x, xs), [3, 2], { strides: geo.strides, pads: geo.pads, dilations: geo.dil });
    await expectClose(col, ref.data, ref.shape);
    // col2im is im2col's adjoint: <im2col(x), c> = <x, col2im(c)>, and matches a scatter loop
    const c = randomData(n(ref.shape), 2);
    const folded = col2im(t(c, ref.shape), [7, 9], [3, 2], { strides: geo.strides, pads: geo.pads, dilations: geo.dil });
    const e = new Float64Array(n(xs));
    for (let k = 0; k < n(xs); k++) {
      const onehot = new Float64Array(n(xs));
      onehot[k] = 1;
      const colK = refIm2Col(onehot, xs, [3, 2], geo).data;
      let s = 0;
      for (let q = 0; q < colK.length; q++) s += colK[q]! * c[q]!;
      e[k] = s;
    }
    await expectClose(folded, e, xs);
  });

  it('conv2d: odd sizes, strides 2, asymmetric pads, dilation 2, bias', async () => {
    const xs = [1, 3, 7, 9];
    const ws = [5, 3, 3, 2];
    const x = randomData(n(xs), 3);
    const w = randomData(n(ws), 4);
    const b = randomData(5, 5);
    for (const geo of [{ strides: [2, 2], pads: [1, 0, 2, 1] }, { strides: [1, 2], pads: [2, 1, 0, 1], dil: [2, 2] }, {}]) {
      const ref = refConv(x, xs, w, ws, b, geo);
      const y = conv2d(t(x, xs), t(w, ws), t(b, [5]), defined({ strides: geo.strides, pads: geo.pads, dilations: geo.dil }));
      await expectClose(y, ref.data, ref.shape);
    }
  });

  it('conv2d: groups 3, depthwise, pointwise and batch > 1', async () => {
    const cases: { xs: number[]; ws: number[]; group: number; geo: { strides?: number[]; pads?: number[]; dil?: number[] } }[] = [
      { xs: [2, 6, 7, 5], ws: [9, 2, 3, 3], group: 3, geo: { strides: [2, 1], pads: [1, 1, 0, 2] } },
      { xs: [1, 3, 8, 7], ws: [6, 1, 3, 3], group: 3, geo: { pads: [1, 1, 1, 1], dil: [2, 1] } }, // depthwise, multiplier 2
      { xs: [2, 4, 5, 3], ws: [3, 4, 1, 1], group: 1, geo: {} }, // pointwise fast path
    ];
    for (const [k, c] of cases.entries()) {
      const x = randomData(n(c.xs), 10 + k);
      const w = randomData(n(c.ws), 20 + k);
      const ref = refConv(x, c.xs, w, c.ws, null, c.geo, c.group);
      const y = conv2d(t(x, c.xs), t(w, c.ws), undefined, defined({ group: c.group, strides: c.geo.strides, pads: c.geo.pads, dilations: c.geo.dil }));
      await expectClose(y, ref.data, ref.shape);
    }
  });

  it('conv2d and pooling read strided views', async () => {
    const base = randomData(2 * 3 * 9 * 8, 30);
    const xt = transpose(t(base, [2, 3, 9, 8]), [0, 1, 3, 2]); // [2,3,8,9]
    const xv = sliceView(xt, [1, 0, 1, 0], [2, 3, 8, 9], [1, 1, 1, 2]); // [1,3,7,5]
    const dense = new Float64Array(1 * 3 * 7 * 5);
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 7; h++)
        for (let w = 0; w < 5; w++) dense[(c * 7 + h) * 5 + w] = base[((1 * 3 + c) * 9 + 2 * w) * 8 + (h + 1)]!;
    const ws = [4, 3, 2, 3];
    const wv = randomData(n(ws), 31);
    const ref = refConv(dense, [1, 3, 7, 5], wv, ws, null, { pads: [1, 1, 0, 1] });
    await expectClose(conv2d(xv, t(wv, ws), undefined, { pads: [1, 1, 0, 1] }), ref.data, ref.shape);
    const mp = refPool(dense, [1, 3, 7, 5], [3, 2], { strides: [2, 2], pads: [1, 0, 1, 1] }, 'max');
    const got = maxPool2d(xv, { kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1] });
    await expectClose(got.values, mp.data, mp.shape);
    const ap = refPool(dense, [1, 3, 7, 5], [2, 2], { strides: [1, 2], pads: [0, 1, 1, 0] }, 'avg');
    await expectClose(avgPool2d(xv, { kernel: [2, 2], strides: [1, 2], pads: [0, 1, 1, 0] }), ap.data, ap.shape);
  });

  it('convTranspose2d: strides, asymmetric pads, dilation, outputPadding, groups', async () => {
    const cases = [
      { xs: [1, 4, 5, 4], ws: [4, 3, 3, 2], group: 1, geo: { strides: [2, 3], pads: [1, 0, 0, 1], dil: [1, 2] }, op: [1, 2] },
      { xs: [2, 4, 4, 3], ws: [4, 2, 3, 3], group: 2, geo: { strides: [2, 2], pads: [1, 1, 1, 1] }, op: [0, 1] },
      { xs: [1, 3, 3, 3], ws: [3, 2, 2, 2], group: 1, geo: {}, op: [0, 0] },
    ];
    for (const [k, c] of cases.entries()) {
      const x = randomData(n(c.xs), 40 + k);
      const w = randomData(n(c.ws), 50 + k);
      const M = c.ws[1]! * c.group;
      const b = randomData(M, 60 + k);
      const ref = refConvT(x, c.xs, w, c.ws, b, c.geo, c.group, c.op);
      const y = convTranspose2d(t(x, c.xs), t(w, c.ws), t(b, [M]), defined({
        group: c.group, strides: c.geo.strides, pads: c.geo.pads, dilations: c.geo.dil, outputPadding: c.op,
      }));
      await expectClose(y, ref.data, ref.shape);
    }
  });

  it('maxPool2d values and ONNX flattened indices, floor and ceil mode, dilation', async () => {
    const xs = [2, 3, 7, 9];
    const x = randomData(n(xs), 70);
    const cases = [
      { k: [3, 2], geo: { strides: [2, 2], pads: [1, 0, 1, 1] } },
      { k: [3, 3], geo: { strides: [2, 2], pads: [0, 1, 1, 0], ceil: true } },
      { k: [2, 3], geo: { strides: [3, 2], dil: [2, 2], ceil: true } },
    ];
    for (const c of cases) {
      const ref = refPool(x, xs, c.k, c.geo, 'max');
      const got = maxPool2d(t(x, xs), defined({ kernel: c.k, strides: c.geo.strides, pads: c.geo.pads, dilations: c.geo.dil, ceilMode: c.geo.ceil }));
      await expectClose(got.values, ref.data, ref.shape);
      expect(got.indices.dtype).toBe('int64');
      expect(Array.from(await got.indices.toFloat64())).toEqual(Array.from(ref.indices));
    }
    // integer input
    const xi = Array.from(x, (v) => Math.round(v * 40));
    const refI = refPool(Float64Array.from(xi), xs, [2, 2], { strides: [2, 2], ceil: true }, 'max');
    const gotI = maxPool2d(tensor(xi, xs, 'int32'), { kernel: [2, 2], strides: [2, 2], ceilMode: true });
    expect(gotI.values.dtype).toBe('int32');
    expect(Array.from(await gotI.values.toFloat64())).toEqual(Array.from(refI.data));
  });

  it('avgPool2d with and without count_include_pad, ceil mode', async () => {
    const xs = [1, 3, 7, 9];
    const x = randomData(n(xs), 80);
    for (const includePad of [false, true]) {
      for (const c of [
        { k: [3, 2], geo: { strides: [2, 2], pads: [1, 0, 2, 1] } },
        { k: [3, 3], geo: { strides: [2, 2], pads: [1, 1, 1, 1], ceil: true } },
        { k: [2, 2], geo: { strides: [2, 3], pads: [0, 0, 1, 1], ceil: true, dil: [2, 1] } },
      ]) {
        const ref = refPool(x, xs, c.k, { ...c.geo, includePad }, 'avg');
        const y = avgPool2d(t(x, xs), defined({ kernel: c.k, strides: c.geo.strides, pads: c.geo.pads, dilations: c.geo.dil, ceilMode: c.geo.ceil, countIncludePad: includePad }));
        await expectClose(y, ref.data, ref.shape);
      }
    }
  });

  it('global pools over any spatial rank', async () => {
    for (const xs of [[2, 3, 5, 4], [2, 3, 5]]) {
      const x = randomData(n(xs), 90);
      const S = n(xs.slice(2));
      const avg = new Float64Array(6);
      const max = new Float64Array(6).fill(-Infinity);
      for (let r = 0; r < 6; r++)
        for (let k = 0; k < S; k++) {
          avg[r]! += x[r * S + k]! / S;
          max[r] = Math.max(max[r]!, x[r * S + k]!);
        }
      const os = xs.map((d, i) => (i < 2 ? d : 1));
      await expectClose(globalAvgPool(t(x, xs)), avg, os);
      await expectClose(globalMaxPool(t(x, xs)), max, os);
    }
  });

  it('batchNorm (inference) over rank 2, 3 and 4', async () => {
    for (const xs of [[3, 4], [2, 4, 5], [2, 4, 3, 5]]) {
      const x = randomData(n(xs), 100);
      const [g, b, m] = [101, 102, 103].map((s) => randomData(4, s));
      const v = Float64Array.from(randomData(4, 104), (q) => Math.fround(q * q + 0.1));
      const inner = n(xs.slice(2));
      const ref = Float64Array.from(x, (q, i) => {
        const c = Math.floor(i / inner) % 4;
        return ((q - m![c]!) / Math.sqrt(v[c]! + 1e-3)) * g![c]! + b![c]!;
      });
      await expectClose(batchNorm(t(x, xs), t(g!, [4]), t(b!, [4]), t(m!, [4]), t(v, [4]), 1e-3), ref, xs);
    }
  });

  it('pad: constant, reflect, edge, wrap with negative (cropping) pads, any rank', async () => {
    const xs = [2, 3, 4];
    const x = randomData(n(xs), 110);
    const cases: [number[], string][] = [
      [[1, 0, 2, 0, 3, 1], 'constant'],
      [[0, 2, 3, 1, 1, 2], 'reflect'],
      [[1, 2, -1, 0, -1, 3], 'edge'],
      [[0, 4, 1, 1, 5, 0], 'wrap'],
      [[0, 5, 0, 0, 6, 0], 'reflect'], // pads larger than the axis bounce repeatedly
    ];
    for (const [pads, mode] of cases) {
      const ref = refPad(x, xs, pads, mode, 1.5);
      await expectClose(pad(t(x, xs), pads, mode as 'constant', 1.5), ref.data, ref.shape);
    }
    const xi = [1, 2, 3, 4, 5, 6];
    const yi = pad(tensor(xi, [2, 3], 'int32'), [1, -1, 0, 2], 'constant', 7);
    expect(yi.dtype).toBe('int32');
    expect(Array.from(await yi.toFloat64())).toEqual(Array.from(refPad(Float64Array.from(xi), [2, 3], [1, -1, 0, 2], 'constant', 7).data));
  });

  it('float16 inputs compute in float32 and round the results', async () => {
    const xs = [1, 2, 5, 6];
    const x = Float64Array.from(randomData(n(xs), 170), (v) => Math.fround(v));
    const xh = tensor(Array.from(x), xs, 'float16');
    const xr = await xh.toFloat64(); // the half-rounded inputs the kernels see
    const ws = [3, 2, 3, 3];
    const wh = tensor(Array.from(randomData(n(ws), 171)), ws, 'float16');
    const conv = conv2d(xh, wh, undefined, { pads: [1, 1, 1, 1] });
    expect(conv.dtype).toBe('float16');
    await expectClose(conv, refConv(xr, xs, await wh.toFloat64(), ws, null, { pads: [1, 1, 1, 1] }).data, [1, 3, 5, 6], 2e-3, 2e-3);
    const ap = avgPool2d(xh, { kernel: [2, 3], strides: [2, 2], pads: [0, 1, 1, 1], countIncludePad: true });
    expect(ap.dtype).toBe('float16');
    const ref = refPool(xr, xs, [2, 3], { strides: [2, 2], pads: [0, 1, 1, 1], includePad: true }, 'avg');
    await expectClose(ap, ref.data, ref.shape, 1e-3, 1e-3);
    const mp = refPool(xr, xs, [3, 3], { strides: [2, 2], ceil: true }, 'max');
    await expectClose(maxPool2d(xh, { kernel: [3, 3], strides: [2, 2], ceilMode: true }).values, mp.data, mp.shape, 0, 0);
    const pr = refPad(xr, xs, [0, 0, 1, 2, 0, 1, 2, 0], 'reflect', 0);
    await expectClose(pad(xh, [0, 0, 1, 2, 0, 1, 2, 0], 'reflect'), pr.data, pr.shape, 0, 0);
  });

  it('gradients of conv2d (x, w, bias) with groups, strides, pads and dilation', async () => {
    const x = t(randomData(2 * 4 * 5 * 4, 120), [2, 4, 5, 4]);
    const w = t(randomData(4 * 2 * 3 * 2, 121), [4, 2, 3, 2]);
    const b = t(randomData(4, 122), [4]);
    await checkGradients((a, c, d) => conv2d(a, c, d, { group: 2, strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 2] }), [x, w, b], { maxChecks });
    const w1 = t(randomData(3 * 4 * 2 * 2, 123), [3, 4, 2, 2]);
    await checkGradients((a, c) => conv2d(a, c, undefined, { pads: [0, 1, 1, 0] }), [x, w1], { maxChecks });
    // one image with a bias: the cpu runs it as Gemm with the bias as its C
    const x1 = t(randomData(4 * 5 * 4, 124), [1, 4, 5, 4]);
    const b1 = t(randomData(3, 125), [3]);
    await checkGradients((a, c, d) => conv2d(a, c, d, { pads: [1, 0, 0, 1] }), [x1, w1, b1], { maxChecks });
  });

  it('gradients of convTranspose2d', async () => {
    const x = t(randomData(1 * 4 * 3 * 3, 130), [1, 4, 3, 3]);
    const w = t(randomData(4 * 1 * 3 * 2, 131), [4, 1, 3, 2]);
    const b = t(randomData(2, 132), [2]);
    await checkGradients((a, c, d) => convTranspose2d(a, c, d, { group: 2, strides: [2, 1], pads: [1, 0, 0, 1], outputPadding: [1, 0] }), [x, w, b], { maxChecks });
  });

  it('gradients of im2col, col2im, maxPool2d, avgPool2d and global pools', async () => {
    const xs = [1, 2, 5, 5];
    const x = t(distinct(n(xs), 140), xs);
    await checkGradients((a) => im2col(a, [2, 3], { strides: [2, 1], pads: [1, 1, 0, 1] }), [x], { maxChecks });
    const c = t(randomData(1 * 8 * 9, 141), [1, 8, 9]);
    await checkGradients((a) => col2im(a, [3, 4], [2, 2], { pads: [0, 0, 1, 0] }), [c], { maxChecks });
    await checkGradients((a) => maxPool2d(a, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true }).values, [x], { maxChecks });
    await checkGradients((a) => maxPool2d(a, { kernel: [2, 2], strides: [1, 1], dilations: [2, 1] }).values, [x], { maxChecks });
    for (const countIncludePad of [false, true]) {
      await checkGradients((a) => avgPool2d(a, { kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], ceilMode: true, countIncludePad }), [x], { maxChecks });
    }
    await checkGradients((a) => globalAvgPool(a), [x], { maxChecks });
    await checkGradients((a) => globalMaxPool(a), [x], { maxChecks });
  });

  it('gradients of batchNorm to x, scale, bias, mean and variance', async () => {
    const x = t(randomData(2 * 3 * 2 * 3, 150), [2, 3, 2, 3]);
    const [g, b, m] = [151, 152, 153].map((s) => t(randomData(3, s), [3]));
    const v = t(Float64Array.from(randomData(3, 154), (q) => Math.fround(q * q + 0.5)), [3]);
    await checkGradients((a, c, d, e, f) => batchNorm(a, c, d, e, f, 1e-3), [x, g!, b!, m!, v], { maxChecks, eps: 1e-3 });
  });

  it('gradients of pad in every mode', async () => {
    const x = t(randomData(2 * 3 * 4, 160), [2, 3, 4]);
    for (const [pads, mode] of [[[1, -1, 2, 0, 2, 1], 'constant'], [[0, 2, 3, 1, 1, 2], 'reflect'], [[1, 2, -1, 0, -1, 3], 'edge'], [[0, 4, 1, 1, 5, 0], 'wrap']] as [number[], 'constant'][]) {
      await checkGradients((a) => pad(a, pads, mode, 0.5), [x], { maxChecks });
    }
  });

  it('bad input gives typed errors naming the shapes', () => {
    const x = tensor(new Array(1 * 3 * 5 * 5).fill(0), [1, 3, 5, 5]);
    const expectThrow = (f: () => unknown, cls: typeof ShapeError, msg: RegExp) => {
      expect(f).toThrow(cls);
      expect(f).toThrow(msg);
    };
    expectThrow(() => conv2d(x, tensor(new Array(2 * 4 * 3 * 3).fill(0), [2, 4, 3, 3])), ShapeError, /\[2,4,3,3\].*\[1,3,5,5\]/);
    expectThrow(() => conv2d(x, tensor(new Array(4 * 1 * 3 * 3).fill(0), [4, 1, 3, 3]), undefined, { group: 2 }), ShapeError, /group 2.*\[1,3,5,5\]/);
    expectThrow(() => conv2d(x, tensor(new Array(2 * 3 * 7 * 3).fill(0), [2, 3, 7, 3]), undefined, { pads: [0, 0, 1, 0] }), ShapeError, /\[1,3,5,5\] padded to 6.*kernel \[7,3\]/);
    expectThrow(() => conv2d(tensor([1, 2, 3], [3]), tensor([1], [1, 1, 1, 1])), ShapeError, /\[3\]/);
    expectThrow(() => conv2d(x, tensor(new Array(2 * 3).fill(0), [2, 3, 1, 1]), tensor([0, 0, 0], [3])), ShapeError, /bias must have shape \[2\]/);
    // pooling (as onnxruntime): a window longer than the input by less than two strides gives an empty output, by two an error
    expect(maxPool2d(x, { kernel: [6, 6] }).values.shape).toEqual([1, 3, 0, 0]);
    expectThrow(() => maxPool2d(x, { kernel: [7, 7] }), ShapeError, /\[1,3,5,5\] padded to 5 is shorter than the dilated kernel extent 7 by twice the stride/);
    expectThrow(() => pad(x, [1, 1], 'constant'), ShapeError, /8 integers/);
    expectThrow(() => batchNorm(x, ...[3, 3, 3, 2].map((c) => tensor(new Array(c).fill(1), [c])) as [Tensor, Tensor, Tensor, Tensor]), ShapeError, /variance must have shape \[3\]/);
    expect(() => convTranspose2d(x, tensor(new Array(3 * 2 * 3 * 3).fill(0), [3, 2, 3, 3]), undefined, { strides: [2, 2], outputPadding: [2, 0] })).toThrow(ArgumentError);
    expect(() => conv2d(tensor([1, 2, 3, 4], [1, 1, 2, 2], 'int32'), tensor([1], [1, 1, 1, 1], 'int32'))).toThrow(DTypeError);
  });
});
