import type { KernelConfig } from '../../../backend.js';
import type { Window2d } from '../../../ops/window.js';
import type { CpuBackend } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';

/**
 * Fold columns back into an image, summing overlapping taps (the adjoint of Im2Col):
 * col [N, C*kh*kw, OH*OW] (any strides) → [N, C, H, W] with H, W from `attrs.imageShape`.
 */
export const col2imKernel: KernelConfig<CpuBackend> = {
  name: 'Col2Im',
  backend: 'cpu',
  strided: true,
  run([col], attrs, backend) {
    const w = attrs as unknown as Window2d;
    const [H, W] = attrs.imageShape as [number, number];
    const [N, K] = col!.shape as [number, number, number];
    const [sN, sK, sL] = col!.strides as [number, number, number];
    const [kh, kw] = w.kernel;
    const [sh, sw] = w.strides;
    const [dh, dw] = w.dilations;
    const [pt, pl] = w.pads;
    const [OH, OW] = w.outShape;
    const C = K / (kh * kw);
    const src = floatStorage(col!);
    const out = new Float32Array(N * C * H * W);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const obase = (n * C + c) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            let s = col!.offset + n * sN + ((c * kh + i) * kw + j) * sK;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= H) {
                s += OW * sL;
                continue;
              }
              const row = obase + ih * W;
              let iw = j * dw - pl;
              for (let ow = 0; ow < OW; ow++, iw += sw, s += sL) {
                if (iw >= 0 && iw < W) out[row + iw] = out[row + iw]! + src[s]!;
              }
            }
          }
        }
      }
    }
    return [floatOutput(backend, col!.dtype, [N, C, H, W], out)];
  },
};
