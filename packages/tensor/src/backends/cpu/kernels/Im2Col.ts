import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
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
    const w = attrs;
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    const [sN, sC, sH, sW] = x!.strides as [number, number, number, number];
    const [kh, kw] = w.kernel;
    const [sh, sw] = w.strides;
    const [dh, dw] = w.dilations;
    const [pt, pl] = w.pads;
    const [OH, OW] = w.outShape;
    const L = OH * OW;
    const K = C * kh * kw;
    const src = floatStorage(x!);
    const out = new Float32Array(N * K * L);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = x!.offset + n * sN + c * sC;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            let o = (n * K + (c * kh + i) * kw + j) * L;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= H) {
                o += OW; // zeros already
                continue;
              }
              const row = base + ih * sH;
              let iw = j * dw - pl;
              for (let ow = 0; ow < OW; ow++, iw += sw, o++) {
                if (iw >= 0 && iw < W) out[o] = src[row + iw * sW]!;
              }
            }
          }
        }
      }
    }
    return [floatOutput(backend, x!.dtype, [N, K, L], out)];
  },
};
