import type { KernelConfig } from '../../../backend.js';
import type { Window2d } from '../../../ops/window.js';
import type { CpuBackend } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';

/**
 * Number of taps of each window position along one axis that count towards the average:
 * inside [lo, hi) where the range is the input (exclude pad) or the padded input (include pad).
 */
export function windowCounts(out: number, k: number, s: number, d: number, padBegin: number, lo: number, hi: number): Int32Array {
  const counts = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    let n = 0;
    for (let i = 0; i < k; i++) {
      const p = o * s - padBegin + i * d;
      if (p >= lo && p < hi) n++;
    }
    counts[o] = n;
  }
  return counts;
}

/** Divisor of every output position [OH*OW] of an average pool (ONNX count_include_pad). */
export function poolDivisors(w: Window2d, H: number, W: number, countIncludePad: boolean): Float32Array {
  const [pt, pl, pb, pr] = w.pads;
  const ch = windowCounts(w.outShape[0], w.kernel[0], w.strides[0], w.dilations[0], pt, countIncludePad ? -pt : 0, countIncludePad ? H + pb : H);
  const cw = windowCounts(w.outShape[1], w.kernel[1], w.strides[1], w.dilations[1], pl, countIncludePad ? -pl : 0, countIncludePad ? W + pr : W);
  const out = new Float32Array(ch.length * cw.length);
  for (let a = 0; a < ch.length; a++) for (let b = 0; b < cw.length; b++) out[a * cw.length + b] = ch[a]! * cw[b]!;
  return out;
}

/**
 * 2-D average pooling of x [N, C, H, W] (any strides) → [N, C, OH, OW]. Padding taps add zero;
 * the divisor counts them only with `attrs.countIncludePad` (and never beyond the end padding).
 */
export const averagePoolKernel: KernelConfig<CpuBackend> = {
  name: 'AveragePool',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const w = attrs as unknown as Window2d;
    const [N, C, H, W] = x!.shape as [number, number, number, number];
    const [sN, sC, sH, sW] = x!.strides as [number, number, number, number];
    const [kh, kw] = w.kernel;
    const [sh, sw] = w.strides;
    const [dh, dw] = w.dilations;
    const [pt, pl] = w.pads;
    const [OH, OW] = w.outShape;
    const div = poolDivisors(w, H, W, !!attrs.countIncludePad);
    const src = floatStorage(x!);
    const out = new Float32Array(N * C * OH * OW);
    let o = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = x!.offset + n * sN + c * sC;
        for (let oh = 0, q = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++, o++, q++) {
            let acc = 0;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pl + j * dw;
                if (iw >= 0 && iw < W) acc += src[base + ih * sH + iw * sW]!;
              }
            }
            const d = div[q]!;
            out[o] = d > 0 ? acc / d : 0;
          }
        }
      }
    }
    return [floatOutput(backend, x!.dtype, [N, C, OH, OW], out)];
  },
};
