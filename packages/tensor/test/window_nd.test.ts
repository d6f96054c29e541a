import { expect, it } from 'vitest';
import { ArgumentError, ShapeError, avgPoolNd, convTransposeNd, maxPoolNd, tensor, transpose, type Tensor } from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, distinctValues } from '@whittle/testing';
import { defined } from './conv_reference.js';

// float64 references over any spatial rank, written as direct loops over multi-indices
const prodOf = (v: readonly number[]): number => v.reduce((a, b) => a * b, 1);
const t = (d: Float64Array, shape: number[]): Tensor => tensor(Array.from(d), shape);

/** Row-major multi-index of flat index q over dims. */
function unflat(q: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let a = dims.length - 1; a >= 0; a--) {
    out[a] = q % dims[a]!;
    q = Math.floor(q / dims[a]!);
  }
  return out;
}
const flat = (idx: readonly number[], dims: readonly number[]): number => idx.reduce((acc, i, a) => acc * dims[a]! + i, 0);

interface Geo {
  k: number[];
  s?: number[];
  p?: number[];
  d?: number[];
  ceil?: boolean;
}

// onnxruntime's count: the division truncated toward zero (not floored), so a window running
// off the end of an input shorter than it by less than a stride still counts (clipped)
function outSize(size: number, k: number, s: number, pb: number, pe: number, d: number, ceil: boolean): number {
  const span = size + pb + pe - ((k - 1) * d + 1);
  let o = (ceil ? Math.ceil(span / s) : Math.trunc(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + pb) o--;
  return o;
}

/** N-d pooling reference: max (first max in window order, flattened index) or average (divisor per ONNX count_include_pad). */
function refPoolNd(x: Float64Array, xs: number[], g: Geo, kind: 'max' | 'avg', includePad = false) {
  const n = xs.length - 2;
  const s = g.s ?? new Array<number>(n).fill(1);
  const p = g.p ?? new Array<number>(2 * n).fill(0);
  const d = g.d ?? new Array<number>(n).fill(1);
  const dims = xs.slice(2);
  const os = dims.map((D, a) => outSize(D, g.k[a]!, s[a]!, p[a]!, p[a + n]!, d[a]!, !!g.ceil));
  const NC = xs[0]! * xs[1]!;
  const data = new Float64Array(NC * prodOf(os));
  const indices = new Float64Array(data.length);
  let o = 0;
  for (let nc = 0; nc < NC; nc++) {
    for (let q = 0; q < prodOf(os); q++, o++) {
      const oi = unflat(q, os);
      let best = -Infinity;
      let at = -1;
      let sum = 0;
      let count = 0;
      for (let tap = 0; tap < prodOf(g.k); tap++) {
        const ti = unflat(tap, g.k);
        const pos = oi.map((v, a) => v * s[a]! - p[a]! + ti[a]! * d[a]!);
        const inside = pos.every((v, a) => v >= 0 && v < dims[a]!);
        const inPadded = pos.every((v, a) => v >= -p[a]! && v < dims[a]! + p[a + n]!);
        if (includePad ? inPadded : inside) count++;
        if (!inside) continue;
        const f = nc * prodOf(dims) + flat(pos, dims);
        sum += x[f]!;
        if (at < 0 || x[f]! > best) {
          best = x[f]!;
          at = f;
        }
      }
      data[o] = kind === 'max' ? best : count > 0 ? sum / count : 0;
      indices[o] = at;
    }
  }
  return { data, indices, shape: [xs[0]!, xs[1]!, ...os] };
}

/** Transposed convolution reference: scatter every x element times every kernel tap. */
function refConvTNd(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array, g: Omit<Geo, 'k' | 'ceil'> & { op?: number[]; group?: number }) {
  const n = xs.length - 2;
  const G = g.group ?? 1;
  const s = g.s ?? new Array<number>(n).fill(1);
  const p = g.p ?? new Array<number>(2 * n).fill(0);
  const d = g.d ?? new Array<number>(n).fill(1);
  const op = g.op ?? new Array<number>(n).fill(0);
  const [N, C] = xs as [number, number];
  const Mg = ws[1]!;
  const M = Mg * G;
  const Cg = C / G;
  const k = ws.slice(2);
  const dims = xs.slice(2);
  const os = dims.map((D, a) => s[a]! * (D - 1) + op[a]! + (k[a]! - 1) * d[a]! + 1 - p[a]! - p[a + n]!);
  const y = new Float64Array(N * M * prodOf(os));
  for (let bi = 0; bi < N; bi++)
    for (let m = 0; m < M; m++) for (let q = 0; q < prodOf(os); q++) y[(bi * M + m) * prodOf(os) + q] = b[m]!;
  for (let bi = 0; bi < N; bi++)
    for (let c = 0; c < C; c++)
      for (let q = 0; q < prodOf(dims); q++) {
        const xi = unflat(q, dims);
        const xv = x[(bi * C + c) * prodOf(dims) + q]!;
        const grp = Math.floor(c / Cg);
        for (let mg = 0; mg < Mg; mg++)
          for (let tap = 0; tap < prodOf(k); tap++) {
            const ti = unflat(tap, k);
            const pos = xi.map((v, a) => v * s[a]! - p[a]! + ti[a]! * d[a]!);
            if (!pos.every((v, a) => v >= 0 && v < os[a]!)) continue;
            const m = grp * Mg + mg;
            const yi = (bi * M + m) * prodOf(os) + flat(pos, os);
            y[yi] = y[yi]! + xv * w[(c * Mg + mg) * prodOf(k) + tap]!;
          }
      }
  return { data: y, shape: [N, M, ...os] };
}

const distinct = distinctValues;

describeBackends('N-d window ops (pooling, convTranspose)', ({ backend }) => {
  const maxChecks = backend === 'webgpu' ? 6 : 20;

  it('maxPoolNd over 3-D and 1-D: values and flattened indices, pads, strides, dilation, ceil mode', async () => {
    const cases: { xs: number[]; g: Geo }[] = [
      { xs: [1, 2, 5, 4, 3], g: { k: [2, 3, 2], s: [2, 1, 2], p: [1, 1, 0, 0, 1, 1] } },
      { xs: [2, 1, 5, 5, 4], g: { k: [2, 2, 2], s: [2, 2, 1], d: [2, 1, 2], ceil: true } },
      { xs: [1, 3, 7], g: { k: [3], s: [2], p: [1, 2], ceil: true } },
      { xs: [2, 3, 1, 2, 5], g: { k: [2, 3, 2], s: [2, 2, 2] } },
    ];
    for (const [i, c] of cases.entries()) {
      const x = randomData(prodOf(c.xs), 10 + i);
      const ref = refPoolNd(x, c.xs, c.g, 'max');
      const got = maxPoolNd(t(x, c.xs), defined({ kernel: c.g.k, strides: c.g.s, pads: c.g.p, dilations: c.g.d, ceilMode: c.g.ceil }));
      await expectClose(got.values, ref.data, ref.shape);
      expect(Array.from(await got.indices.toFloat64())).toEqual(Array.from(ref.indices));
    }
  });

  it('avgPoolNd over 3-D with and without count_include_pad, ceil mode, dilation; strided input', async () => {
    const xs = [1, 2, 5, 4, 5];
    const x = randomData(prodOf(xs), 20);
    for (const includePad of [false, true]) {
      for (const g of [
        { k: [3, 2, 2], s: [2, 2, 1], p: [1, 0, 1, 1, 1, 0] },
        { k: [2, 2, 3], s: [2, 3, 2], p: [1, 1, 1, 0, 0, 1], d: [2, 1, 1], ceil: true },
      ]) {
        const ref = refPoolNd(x, xs, g, 'avg', includePad);
        const y = avgPoolNd(t(x, xs), defined({ kernel: g.k, strides: g.s, pads: g.p, dilations: g.d, ceilMode: g.ceil, countIncludePad: includePad }));
        await expectClose(y, ref.data, ref.shape);
      }
    }
    // a transposed (non-contiguous) view: [1, 2, 5, 5, 4] seen as [1, 2, 5, 4, 5]
    const v = transpose(t(x, [1, 2, 5, 5, 4]), [0, 1, 2, 4, 3]);
    const vx = await v.toFloat64();
    const g = { k: [2, 3, 2], s: [1, 2, 2], p: [0, 1, 1, 1, 0, 0] };
    const ref = refPoolNd(vx, [1, 2, 5, 4, 5], g, 'avg');
    await expectClose(avgPoolNd(v, { kernel: g.k, strides: g.s, pads: g.p }), ref.data, ref.shape);
  });

  it('convTransposeNd over 3-D and 1-D: strides, asymmetric pads, dilation, outputPadding, groups', async () => {
    const cases = [
      { xs: [1, 2, 3, 2, 3], ws: [2, 2, 2, 3, 2], g: { s: [2, 1, 2], p: [1, 0, 0, 0, 1, 1], d: [1, 2, 1], op: [1, 0, 1] } },
      { xs: [2, 4, 2, 3, 2], ws: [4, 1, 2, 2, 3], g: { s: [1, 2, 1], p: [0, 1, 1, 1, 0, 0], group: 2 } },
      { xs: [1, 3, 5], ws: [3, 2, 3], g: { s: [3], p: [1, 2], d: [2], op: [2] } },
    ];
    for (const [i, c] of cases.entries()) {
      const x = randomData(prodOf(c.xs), 30 + i);
      const w = randomData(prodOf(c.ws), 40 + i);
      const M = c.ws[1]! * (c.g.group ?? 1);
      const b = randomData(M, 50 + i);
      const ref = refConvTNd(x, c.xs, w, c.ws, b, c.g);
      const y = convTransposeNd(t(x, c.xs), t(w, c.ws), t(b, [M]), defined({ strides: c.g.s, pads: c.g.p, dilations: c.g.d, outputPadding: c.g.op, group: c.g.group }));
      await expectClose(y, ref.data, ref.shape);
    }
  });

  it('gradients of maxPoolNd and avgPoolNd over 3-D (finite differences)', async () => {
    const xs = [1, 1, 4, 3, 4];
    const x = t(distinct(prodOf(xs), 60), xs);
    await checkGradients((a) => maxPoolNd(a, { kernel: [2, 2, 3], strides: [2, 1, 2], pads: [1, 0, 1, 0, 1, 1], ceilMode: true }).values, [x], { maxChecks });
    for (const countIncludePad of [false, true]) {
      await checkGradients((a) => avgPoolNd(a, { kernel: [3, 2, 2], strides: [2, 2, 1], pads: [1, 1, 0, 1, 0, 1], dilations: [1, 1, 2], countIncludePad }), [x], { maxChecks });
    }
  });

  it('bad input gives typed errors naming the shapes', () => {
    const x = tensor(new Array(2 * 3 * 4).fill(0), [1, 2, 3, 4, 1]);
    expect(() => maxPoolNd(x, { kernel: [2, 2] })).toThrow(ArgumentError);
    expect(avgPoolNd(x, { kernel: [4, 1, 1] }).shape).toEqual([1, 2, 0, 4, 1]);
    expect(() => avgPoolNd(x, { kernel: [5, 1, 1] })).toThrow(/\[1,2,3,4,1\] padded to 3 is shorter than the dilated kernel extent 5/);
    expect(() => maxPoolNd(tensor([1, 2], [1, 2]), { kernel: [1] })).toThrow(ShapeError);
    const w = tensor(new Array(2 * 2 * 8).fill(0), [2, 2, 2, 2, 2]);
    expect(() => convTransposeNd(x, w, undefined, { strides: [2, 2, 2], outputPadding: [2, 0, 0] })).toThrow(ArgumentError);
    expect(() => convTransposeNd(x, tensor(new Array(3 * 8).fill(0), [3, 1, 2, 2, 2]))).toThrow(/expects 3 input channels/);
  });
});
