import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { wasmIm2col } from '../../../wasm/im2col_wasm.js';
import { floatOutput, floatStorage } from './float_io.js';

/**
 * Unfold sliding windows: x [N, C, H, W] (any strides) → col [N, C*kh*kw, OH*OW], zero where a
 * window tap falls in the padding. Row index is (c*kh + i)*kw + j.
 */
export const im2colKernel: KernelConfig<CpuBackend, 'Im2Col'> = {
  name: 'Im2Col',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    const [sN, sC, sH, sW] = x!.strides as [number, number, number, number];
    const [kh, kw] = attrs.kernel;
    const [OH, OW] = attrs.outShape;
    const K = C * kh * kw;
    const out = new Float32Array(N * K * OH * OW);
    const g: Geometry = { H, W, sH, sW, kh, kw, sh: attrs.strides[0]!, sw: attrs.strides[1]!, dh: attrs.dilations[0]!, dw: attrs.dilations[1]!, pt: attrs.pads[0]!, pl: attrs.pads[1]!, OH, OW };
    const src = floatStorage(x!);
    for (let n = 0; n < N; n++) {
      // the WASM unfold where it runs (one memory.copy per unit-stride row), else the JS loops
      if (wasmIm2col(src, x!.offset + n * sN, [sC, sH, sW], C, H, W, g, out, n * K * OH * OW)) continue;
      for (let c = 0; c < C; c++) unfoldChannel(src, x!.offset + n * sN + c * sC, out, (n * K + c * kh * kw) * OH * OW, g);
    }
    return [floatOutput(backend, x!.dtype, [N, K, OH * OW], out)];
  },
};

/** Window geometry of one unfold (image size and strides, kernel, window strides, dilations, pads, output size). */
interface Geometry {
  H: number; W: number; sH: number; sW: number; kh: number; kw: number; sh: number; sw: number;
  dh: number; dw: number; pt: number; pl: number; OH: number; OW: number;
}

/**
 * Write the kh*kw rows of one channel (image at `base`) from `o` on (JS fallback of the WASM
 * unfold). The in-image range of ow is computed once per tap so the copy loop has no bounds test
 * (the padding stays the zeros the buffer was allocated with).
 */
function unfoldChannel(src: Float32Array, base: number, out: Float32Array, o: number, g: Geometry): void {
  const { H, W, sH, sW, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW } = g;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++, o += OH * OW) {
      const shift = j * dw - pl; // iw = ow*sw + shift
      const lo = shift < 0 ? Math.ceil(-shift / sw) : 0;
      const hi = Math.min(OW, Math.ceil((W - shift) / sw));
      if (lo >= hi) continue;
      for (let oh = 0; oh < OH; oh++) {
        const ih = oh * sh - pt + i * dh;
        if (ih < 0 || ih >= H) continue;
        const d = o + oh * OW;
        let s = base + ih * sH + (lo * sw + shift) * sW;
        const step = sw * sW;
        if (step === 1) for (let ow = lo; ow < hi; ow++) out[d + ow] = src[s++]!;
        else for (let ow = lo; ow < hi; ow++, s += step) out[d + ow] = src[s]!;
      }
    }
  }
}
