import type { KernelConfig } from '../../../backend.js';
import type { CpuBackend } from '../backend.js';
import { sizeOf, contiguousStrides } from '../../../shape.js';
import { floatOutput, floatStorage } from './float_io.js';
import { advanceOuter } from './window_nd.js';
import { wasmCol2im } from '../../../wasm/im2col_wasm.js';

/**
 * Fold columns back into an image, summing overlapping taps (the adjoint of Im2Col), any
 * spatial rank n: col [N, C*k1*...*kn, O1*...*On] (any strides) → [N, C, ...attrs.imageShape],
 * row c*taps + t for kernel tap t (row-major), column q for window position q (row-major).
 */
export const col2imKernel: KernelConfig<CpuBackend, 'Col2Im'> = {
  name: 'Col2Im',
  backend: 'cpu',
  strided: true,
  run([col], attrs, backend) {
    const w = attrs;
    const dims = attrs.imageShape;
    const n = w.kernel.length;
    const L = n - 1;
    const [N, K] = col!.shape as [number, number, number];
    const [sN, sK, sL] = col!.strides as [number, number, number];
    const T = sizeOf(w.kernel);
    const C = K / T;
    const image = sizeOf(dims);
    const fs = contiguousStrides(dims);
    const qs = contiguousStrides(w.outShape);
    const src = floatStorage(col!);
    const out = new Float32Array(N * C * image);
    const tap = new Int32Array(n);
    const shift = new Int32Array(n);
    const lo = new Int32Array(n);
    const hi = new Int32Array(n);
    const pos = new Int32Array(n);
    for (let b = 0; b < N; b++) {
      // 2-D: the WASM fold where it runs (SIMD adds along unit-stride rows), else the loops below
      if (n === 2) {
        const [kh, kw] = w.kernel as [number, number];
        const g = { kh, kw, sh: w.strides[0]!, sw: w.strides[1]!, dh: w.dilations[0]!, dw: w.dilations[1]!, pt: w.pads[0]!, pl: w.pads[1]!, OH: w.outShape[0]!, OW: w.outShape[1]! };
        if (wasmCol2im(src, col!.offset + b * sN, sK, sL, C, dims[0]!, dims[1]!, g, out, b * C * image)) continue;
      }
      for (let c = 0; c < C; c++) {
        const obase = (b * C + c) * image;
        tap.fill(0);
        for (let t = 0; t < T; t++) {
          const row = col!.offset + b * sN + (c * T + t) * sK;
          // window positions o whose tap lands inside: 0 <= o * s + shift < D
          let any = true;
          for (let a = 0; a < n; a++) {
            const sh = tap[a]! * w.dilations[a]! - w.pads[a]!;
            shift[a] = sh;
            lo[a] = sh < 0 ? Math.ceil(-sh / w.strides[a]!) : 0;
            hi[a] = Math.min(w.outShape[a]!, Math.ceil((dims[a]! - sh) / w.strides[a]!));
            if (lo[a]! >= hi[a]!) any = false;
          }
          if (any) {
            pos.set(lo);
            do {
              let at = obase;
              let q = 0;
              for (let a = 0; a < L; a++) {
                at += (pos[a]! * w.strides[a]! + shift[a]!) * fs[a]!;
                q += pos[a]! * qs[a]!;
              }
              const sl = w.strides[L]!;
              for (let j = lo[L]!, p = at + j * sl + shift[L]!, s = row + (q + j) * sL; j < hi[L]!; j++, p += sl, s += sL) out[p] = out[p]! + src[s]!;
            } while (advanceOuter(pos, lo, hi));
          }
          for (let a = L; a >= 0 && ++tap[a]! >= w.kernel[a]!; a--) tap[a] = 0;
        }
      }
    }
    return [floatOutput(backend, col!.dtype, [N, C, ...dims], out)];
  },
};
