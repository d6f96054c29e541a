import type { KernelConfig } from '../../../backend.js';
import type { WindowNd } from '../../../ops/window.js';
import type { CpuBackend } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';
import { prodOf, rowMajorStrides, tapOffsets, windowStarts } from './window_nd.js';

/**
 * Fold columns back into an image, summing overlapping taps (the adjoint of Im2Col), any
 * spatial rank n: col [N, C*k1*...*kn, O1*...*On] (any strides) → [N, C, ...attrs.imageShape],
 * row c*taps + t for kernel tap t (row-major), column q for window position q (row-major).
 */
export const col2imKernel: KernelConfig<CpuBackend> = {
  name: 'Col2Im',
  backend: 'cpu',
  strided: true,
  run([col], attrs, backend) {
    const w = attrs as unknown as WindowNd;
    const dims = attrs.imageShape as number[];
    const n = w.kernel.length;
    const [N, K] = col!.shape as [number, number, number];
    const [sN, sK, sL] = col!.strides as [number, number, number];
    const T = prodOf(w.kernel);
    const Q = prodOf(w.outShape);
    const C = K / T;
    const image = prodOf(dims);
    const flatStrides = rowMajorStrides(dims);
    const taps = tapOffsets(w);
    const starts = windowStarts(w);
    const src = floatStorage(col!);
    const out = new Float32Array(N * C * image);
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        const obase = (b * C + c) * image;
        for (let t = 0; t < T; t++) {
          const row = col!.offset + b * sN + (c * T + t) * sK;
          for (let q = 0; q < Q; q++) {
            let at = obase;
            let inside = true;
            for (let a = 0; a < n; a++) {
              const p = starts[q * n + a]! + taps[t * n + a]!;
              if (p < 0 || p >= dims[a]!) {
                inside = false;
                break;
              }
              at += p * flatStrides[a]!;
            }
            if (inside) out[at] = out[at]! + src[row + q * sL]!;
          }
        }
      }
    }
    return [floatOutput(backend, col!.dtype, [N, C, ...dims], out)];
  },
};
