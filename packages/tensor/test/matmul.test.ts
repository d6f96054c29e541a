import { expect, it } from 'vitest';
import { matmul, gemm, tensor, transpose, sliceView, sum, DTypeError, ShapeError } from '@whittle/tensor/node';
import { checkGradients, describeBackends, expectClose, randomData, stridesOf, unravel } from '@whittle/testing';

/** float64 reference of a batched matmul over row-major data, numpy broadcasting of batch dims. */
function refMatmul(a: Float64Array, as: number[], b: Float64Array, bs: number[]): { shape: number[]; data: Float64Array } {
  const [M, K] = as.slice(-2) as [number, number];
  const N = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const pa = [...new Array<number>(r - ab.length).fill(1), ...ab];
  const pb = [...new Array<number>(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const nb = batch.reduce((p, d) => p * d, 1);
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  const out = new Float64Array(nb * M * N);
  for (let t = 0; t < nb; t++) {
    const idx = unravel(t, batch);
    let oa = 0;
    let ob = 0;
    idx.forEach((c, d) => {
      oa += (pa[d] === 1 ? 0 : c) * sa[d]! * M * K;
      ob += (pb[d] === 1 ? 0 : c) * sb[d]! * K * N;
    });
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[oa + i * K + k]! * b[ob + k * N + j]!;
        out[t * M * N + i * N + j] = s;
      }
  }
  return { shape: [...batch, M, N], data: out };
}

/** Row-major transpose of the last two axes of float64 data. */
function transposeData(x: Float64Array, shape: number[]): Float64Array {
  const [r, c] = shape.slice(-2) as [number, number];
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += r * c)
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[base + j * r + i] = x[base + i * c + j]!;
  return out;
}

const t = (d: Float64Array, s: number[]) => tensor(Array.from(d), s);

describeBackends('matmul', ({ backend }) => {
  const big = backend === 'cpu';

  it('2-D odd sizes against float64', async () => {
    for (const [m, k, n] of [[1, 1, 1], [7, 13, 5], [3, 1, 9], [17, 33, 65]] as [number, number, number][]) {
      const a = randomData(m * k, m + k);
      const b = randomData(k * n, n + 3);
      const ref = refMatmul(a, [m, k], b, [k, n]);
      await expectClose(matmul(t(a, [m, k]), t(b, [k, n])), ref.data, ref.shape);
    }
  });

  it('sizes that span several tiles/blocks', async () => {
    const [m, k, n] = big ? [131, 300, 97] : [70, 35, 67];
    const a = randomData(m * k, 1);
    const b = randomData(k * n, 2);
    const ref = refMatmul(a, [m, k], b, [k, n]);
    await expectClose(matmul(t(a, [m, k]), t(b, [k, n])), ref.data, ref.shape, 1e-4, 1e-4);
  });

  it('broadcasts batch dimensions', async () => {
    const a = randomData(2 * 5 * 6, 3);
    const b = randomData(3 * 6 * 4, 4);
    const ref = refMatmul(a, [2, 1, 5, 6], b, [3, 6, 4]);
    await expectClose(matmul(t(a, [2, 1, 5, 6]), t(b, [3, 6, 4])), ref.data, ref.shape);
    // a batched, b shared (the cpu kernel folds the batch into rows)
    const c = randomData(3 * 7 * 6, 5);
    const d = randomData(6 * 9, 6);
    const ref2 = refMatmul(c, [3, 7, 6], d, [6, 9]);
    await expectClose(matmul(t(c, [3, 7, 6]), t(d, [6, 9])), ref2.data, ref2.shape);
  });

  it('1-D operands follow numpy', async () => {
    const v = randomData(6, 7);
    const w = randomData(6, 8);
    const m = randomData(6 * 4, 9);
    const bm = randomData(2 * 3 * 6, 10);
    const rv = refMatmul(v, [1, 6], m, [6, 4]);
    await expectClose(matmul(t(v, [6]), t(m, [6, 4])), rv.data, [4]);
    const rm = refMatmul(transposeData(m, [6, 4]), [4, 6], v, [6, 1]);
    await expectClose(matmul(t(m, [6, 4]), t(v, [6]), { transA: true }), rm.data, [4]);
    let dot = 0;
    for (let i = 0; i < 6; i++) dot += v[i]! * w[i]!;
    await expectClose(matmul(t(v, [6]), t(w, [6])), [dot], []);
    const rb = refMatmul(bm, [2, 3, 6], v, [6, 1]);
    await expectClose(matmul(t(bm, [2, 3, 6]), t(v, [6])), rb.data, [2, 3]);
  });

  it('transA/transB and strided views (transpose, slice)', async () => {
    const a = randomData(9 * 5, 11); // stored [K=9, M=5]
    const b = randomData(7 * 9, 12); // stored [N=7, K=9]
    const ref = refMatmul(transposeData(a, [9, 5]), [5, 9], transposeData(b, [7, 9]), [9, 7]);
    await expectClose(matmul(t(a, [9, 5]), t(b, [7, 9]), { transA: true, transB: true }), ref.data, ref.shape);
    await expectClose(matmul(transpose(t(a, [9, 5])), transpose(t(b, [7, 9]))), ref.data, ref.shape);
    // every other row of a [10, 9] matrix and a column slice of b
    const big2 = randomData(10 * 9, 13);
    const rows = new Float64Array(5 * 9);
    for (let i = 0; i < 5; i++) for (let k = 0; k < 9; k++) rows[i * 9 + k] = big2[2 * i * 9 + k]!;
    const bw = randomData(9 * 8, 14);
    const cols = new Float64Array(9 * 5);
    for (let k = 0; k < 9; k++) for (let j = 0; j < 5; j++) cols[k * 5 + j] = bw[k * 8 + 1 + j]!;
    const ref2 = refMatmul(rows, [5, 9], cols, [9, 5]);
    await expectClose(matmul(sliceView(t(big2, [10, 9]), [0, 0], [10, 9], [2, 1]), sliceView(t(bw, [9, 8]), [0, 1], [9, 6])), ref2.data, ref2.shape);
    // batched transposed view: [2,4,3] viewed as [2,3,4]
    const x = randomData(2 * 4 * 3, 15);
    const y = randomData(4 * 2, 16);
    const xt = new Float64Array(24);
    for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) xt[n * 12 + i * 4 + k] = x[n * 12 + k * 3 + i]!;
    const ref3 = refMatmul(xt, [2, 3, 4], y, [4, 2]);
    await expectClose(matmul(transpose(t(x, [2, 4, 3]), [0, 2, 1]), t(y, [4, 2])), ref3.data, ref3.shape);
  });

  it('int32 is exact', async () => {
    const a = [1, -2, 3, 4, 5, -6, 7, 8, 9, 10, 11, 12];
    const b = [3, 1, -4, 1, 5, 9, 2, -6, 5, 3, 5, 8];
    const ref = refMatmul(Float64Array.from(a), [3, 4], Float64Array.from(b), [4, 3]);
    const r = matmul(tensor(a, [3, 4], 'int32'), tensor(b, [4, 3], 'int32'));
    expect(r.dtype).toBe('int32');
    expect(Array.from<number | bigint>(await r.data())).toEqual(Array.from(ref.data));
  });

  it('float16 computes in float32 and rounds', async () => {
    const a = [0.5, 1.5, -2, 0.25, 3, 1];
    const b = [1, 2, 0.5, -1, 4, 0.125];
    const ref = refMatmul(Float64Array.from(a), [2, 3], Float64Array.from(b), [3, 2]);
    const r = matmul(tensor(a, [2, 3], 'float16'), tensor(b, [3, 2], 'float16'));
    expect(r.dtype).toBe('float16');
    await expectClose(r, ref.data, ref.shape, 1e-3, 1e-3);
  });

  it('gemm: alpha, beta, transposes and C broadcasting', async () => {
    const [M, K, N] = [5, 7, 6];
    const a = randomData(K * M, 20); // stored transposed
    const b = randomData(N * K, 21); // stored transposed
    const ab = refMatmul(transposeData(a, [K, M]), [M, K], transposeData(b, [N, K]), [K, N]).data;
    const cs: [number[], (i: number, j: number) => number][] = [];
    const c2 = randomData(M * N, 22);
    const c1 = randomData(N, 23);
    const cm = randomData(M, 24);
    cs.push([[M, N], (i, j) => c2[i * N + j]!], [[N], (_i, j) => c1[j]!], [[M, 1], (i) => cm[i]!], [[], () => 0.75]);
    for (const [shape, at] of cs) {
      const cData = shape.length === 0 ? Float64Array.from([0.75]) : shape[0] === M && shape.length === 2 && shape[1] === 1 ? cm : shape.length === 1 ? c1 : c2;
      const ref = new Float64Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) ref[i * N + j] = 0.5 * ab[i * N + j]! - 2 * at(i, j);
      const y = gemm(t(a, [K, M]), t(b, [N, K]), t(cData, shape), { alpha: 0.5, beta: -2, transA: true, transB: true });
      await expectClose(y, ref, [M, N]);
    }
    const plain = refMatmul(transposeData(a, [K, M]), [M, K], transposeData(b, [N, K]), [K, N]);
    await expectClose(gemm(transpose(t(a, [K, M])), t(b, [N, K]), null, { transB: true }), plain.data, plain.shape);
  });

  it('gradients of matmul (broadcast batch, transposes, 1-D)', async () => {
    const a = t(randomData(2 * 3 * 4, 30), [2, 3, 4]);
    const b = t(randomData(4 * 5, 31), [4, 5]);
    await checkGradients((x, y) => matmul(x, y), [a, b]);
    const c = t(randomData(3 * 4, 32), [1, 4, 3]);
    const d = t(randomData(2 * 5 * 4, 33), [2, 5, 4]);
    await checkGradients((x, y) => matmul(x, y, { transA: true, transB: true }), [c, d]);
    const v = t(randomData(4, 34), [4]);
    await checkGradients((x, y) => matmul(x, y), [v, b]);
    await checkGradients((x, y) => sum(matmul(transpose(x), y), [0]), [t(randomData(12, 35), [4, 3]), t(randomData(8, 36), [4, 2])]);
  });

  it('gradients of gemm (alpha, beta, transposes, broadcast C)', async () => {
    const a = t(randomData(4 * 3, 40), [4, 3]);
    const b = t(randomData(5 * 4, 41), [5, 4]);
    const c = t(randomData(5, 42), [5]);
    await checkGradients((x, y, z) => gemm(x, y, z, { alpha: 1.5, beta: 0.5, transA: true, transB: true }), [a, b, c]);
    const a2 = t(randomData(3 * 4, 43), [3, 4]);
    const b2 = t(randomData(4 * 5, 44), [4, 5]);
    const c2 = t(randomData(3, 45), [3, 1]);
    await checkGradients((x, y, z) => gemm(x, y, z, { alpha: -0.7, beta: 2 }), [a2, b2, c2]);
  });

  it('rejects bad shapes and dtypes with typed errors', () => {
    const a = tensor(new Float32Array(6), [2, 3]);
    expect(() => matmul(a, tensor(new Float32Array(8), [4, 2]))).toThrow(/inner dimensions differ/);
    expect(() => matmul(a, tensor(new Float32Array(8), [4, 2]))).toThrow(ShapeError);
    expect(() => matmul(tensor(new Float32Array(12), [2, 2, 3]), tensor(new Float32Array(18), [3, 3, 2]))).toThrow(/batch dimensions/);
    expect(() => matmul(a, tensor([1, 2, 3], [3], 'int32'))).toThrow(DTypeError);
    expect(() => matmul(tensor([1], []), a)).toThrow(ShapeError);
    expect(() => gemm(tensor(new Float32Array(12), [2, 2, 3]), a)).toThrow(/2-D/);
    expect(() => gemm(a, tensor(new Float32Array(12), [3, 4]), tensor(new Float32Array(3), [3]))).toThrow(/does not broadcast/);
  });
});
