import { afterEach, describe, expect, it } from 'vitest';
import { col2im, conv2d, im2col, setBackend, sliceView, tensor, transpose } from '@whittle/tensor/node';
import { randomData } from '@whittle/testing';
import { setWasmIm2col } from '../src/wasm/im2col_wasm.js';
import { forceWasmSgemmVariant } from '../src/wasm/sgemm_wasm.js';

/** Direct im2col reference: x [N, C, H, W] row-major → [N, C*kh*kw, OH*OW]. */
type P2 = [number, number];
function ref(x: Float64Array, [N, C, H, W]: [number, number, number, number], [kh, kw]: P2, [sh, sw]: P2, [pt, pl, pb, pr]: [number, number, number, number], [dh, dw]: P2): Float64Array {
  const OH = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float64Array(N * C * kh * kw * OH * OW);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++, o++) {
              const ih = oh * sh - pt + i * dh;
              const iw = ow * sw - pl + j * dw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) out[o] = x[((n * C + c) * H + ih) * W + iw]!;
            }
  return out;
}

describe('cpu Im2Col / Col2Im: WASM unfold and fold against the JS loops', () => {
  afterEach(() => {
    setWasmIm2col(true);
  });

  const cases: { x: [number, number, number, number]; k: P2; s: P2; p: [number, number, number, number]; d: P2 }[] = [
    { x: [2, 3, 7, 6], k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], d: [1, 1] },
    { x: [1, 2, 9, 8], k: [3, 2], s: [2, 3], p: [2, 0, 1, 3], d: [2, 1] },
    { x: [1, 1, 5, 5], k: [5, 5], s: [1, 1], p: [0, 0, 0, 0], d: [1, 1] },
    { x: [1, 2, 3, 3], k: [2, 2], s: [1, 1], p: [4, 4, 4, 4], d: [3, 3] }, // taps entirely in the padding
    { x: [1, 2, 3, 70], k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], d: [1, 1] }, // rows of >= 64 floats: bulk copy / fill
  ];
  for (const wasm of [true, false]) {
    it(`matches a direct reference (${wasm ? 'WASM' : 'JS'}), with contiguous and transposed inputs`, async () => {
      await setBackend('cpu');
      setWasmIm2col(wasm);
      for (const c of cases) {
        const data = randomData(c.x.reduce((a, b) => a * b, 1), 7);
        const want = ref(data, c.x, c.k, c.s, c.p, c.d);
        const x = tensor(Float32Array.from(data), c.x);
        // the same values through a strided view: store [N, C, W, H] and transpose its last axes
        const [N, C, H, W] = c.x;
        const t = new Float32Array(data.length);
        for (let n = 0; n < N * C; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) t[(n * W + w) * H + h] = data[(n * H + h) * W + w]!;
        const xt = transpose(tensor(t, [N, C, W, H]), [0, 1, 3, 2]);
        for (const input of [x, xt, sliceView(x, [0, 0, 0, 0], c.x)]) {
          const got = im2col(input, c.k, { strides: c.s, pads: c.p, dilations: c.d }).dataSync() as Float32Array;
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
    });
  }

  it('col2im (WASM) equals the JS fold and is the adjoint of im2col, contiguous and transposed columns', async () => {
    await setBackend('cpu');
    for (const c of cases) {
      const [N, C, H, W] = c.x;
      const opts = { strides: c.s, pads: c.p, dilations: c.d };
      const rows = C * c.k[0] * c.k[1];
      const L = ref(new Float64Array(N * C * H * W), c.x, c.k, c.s, c.p, c.d).length / (N * rows);
      const y = randomData(N * rows * L, 11);
      const yt = new Float32Array(y.length); // [N, L, rows] storage, viewed transposed
      for (let n = 0; n < N; n++) for (let r = 0; r < rows; r++) for (let q = 0; q < L; q++) yt[(n * L + q) * rows + r] = y[(n * rows + r) * L + q]!;
      const inputs = [tensor(Float32Array.from(y), [N, rows, L]), transpose(tensor(yt, [N, L, rows]), [0, 2, 1])];
      setWasmIm2col(false);
      const js = Array.from(col2im(inputs[0]!, [H, W], c.k, opts).dataSync() as Float32Array);
      setWasmIm2col(true);
      // adjoint: <im2col(x), y> = <x, col2im(y)> for the float64 reference unfold
      const x = randomData(N * C * H * W, 12);
      const ux = ref(x, c.x, c.k, c.s, c.p, c.d);
      let lhs = 0;
      for (let i = 0; i < ux.length; i++) lhs += ux[i]! * y[i]!;
      for (const input of inputs) {
        const got = Array.from(col2im(input, [H, W], c.k, opts).dataSync() as Float32Array);
        expect(got).toEqual(js);
        let rhs = 0;
        for (let i = 0; i < x.length; i++) rhs += x[i]! * got[i]!;
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      }
    }
  });

  it('conv2d without gradients (the fused cpu kernel) equals im2col + matmul, with and without WASM', async () => {
    await setBackend('cpu');
    // the last case's GEMM buffers exceed the slack of the pages grown for the unfold
    for (const c of [...cases, { x: [1, 8, 32, 32] as [number, number, number, number], k: [3, 3] as P2, s: [1, 1] as P2, p: [1, 1, 1, 1] as [number, number, number, number], d: [1, 1] as P2 }]) {
      const [N, C, H, W] = c.x;
      const M = 3;
      const x = randomData(N * C * H * W, 21);
      const wd = randomData(M * C * c.k[0] * c.k[1], 22);
      const ux = ref(x, c.x, c.k, c.s, c.p, c.d); // [N, K, L]
      const K = C * c.k[0] * c.k[1];
      const L = ux.length / (N * K);
      const want = new Float64Array(N * M * L);
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let q = 0; q < L; q++) {
        let s = 0.5 * (m + 1); // bias
        for (let k = 0; k < K; k++) s += wd[m * K + k]! * ux[(n * K + k) * L + q]!;
        want[(n * M + m) * L + q] = s;
      }
      const xt = transpose(tensor(Float32Array.from(x), [N, C, H, W]), [0, 1, 3, 2]); // a strided input: [N, C, W, H] view
      const xs = transpose(tensor(Float32Array.from(xt.dataSync() as Float32Array), [N, C, W, H]), [0, 1, 3, 2]);
      for (const wasm of [true, false]) {
        setWasmIm2col(wasm);
        forceWasmSgemmVariant(forceWasmSgemmVariant(null)); // a fresh (2-page) linear memory: the layout must reserve what it uses
        const y = conv2d(xs, tensor(Float32Array.from(wd), [M, C, c.k[0], c.k[1]]), tensor([0.5, 1, 1.5], [3]), { strides: c.s, pads: c.p, dilations: c.d });
        const got = y.dataSync() as Float32Array;
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[i]!)));
      }
    }
  });
});
