import type { KernelConfig } from '../../../backend.js';
import type { WindowNd } from '../../../ops/window.js';
import type { CpuBackend } from '../backend.js';
import { sizeOf } from '../../../shape.js';
import { floatOutput, floatStorage } from './float_io.js';
import { WindowWalker, advanceOuter } from './window_nd.js';

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

/**
 * Divisor of every output position (row-major over `w.outShape`) of an average pool over an
 * input of spatial size `dims` (ONNX count_include_pad): the product of the per-axis counts.
 */
export function poolDivisors(w: WindowNd, dims: readonly number[], countIncludePad: boolean): Float32Array {
  const n = w.kernel.length;
  const counts = dims.map((D, a) => {
    const pb = w.pads[a]!;
    const pe = w.pads[a + n]!;
    return windowCounts(w.outShape[a]!, w.kernel[a]!, w.strides[a]!, w.dilations[a]!, pb, countIncludePad ? -pb : 0, countIncludePad ? D + pe : D);
  });
  const out = new Float32Array(sizeOf(w.outShape)).fill(1);
  for (let q = 0; q < out.length; q++) {
    let rem = q;
    for (let a = n - 1; a >= 0; a--) {
      out[q] = out[q]! * counts[a]![rem % w.outShape[a]!]!;
      rem = Math.floor(rem / w.outShape[a]!);
    }
  }
  return out;
}

/**
 * Average pooling of x [N, C, D1, ..., Dn] (any n, any strides) → [N, C, O1, ..., On]. Padding
 * taps add zero; the divisor counts them only with `attrs.countIncludePad` (and never beyond
 * the end padding).
 */
export const averagePoolKernel: KernelConfig<CpuBackend, 'AveragePool'> = {
  name: 'AveragePool',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const w = attrs;
    const n = w.kernel.length;
    const L = n - 1;
    const [N, C] = x!.shape as [number, number];
    const dims = x!.shape.slice(2);
    const xs = x!.strides.slice(2);
    const d = w.dilations;
    const div = poolDivisors(w, dims, attrs.countIncludePad);
    const Q = div.length;
    const src = floatStorage(x!);
    const out = new Float32Array(N * C * Q);
    const walk = new WindowWalker(w, dims);
    const { start, lo, hi } = walk;
    const idx = new Int32Array(n);
    let o = 0;
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        const base = x!.offset + b * x!.strides[0]! + c * x!.strides[1]!;
        walk.reset();
        for (let q = 0; q < Q; q++, o++) {
          let acc = 0;
          if (walk.next()) {
            for (let a = 0; a < L; a++) idx[a] = lo[a]!;
            do {
              let off = base;
              for (let a = 0; a < L; a++) off += (start[a]! + idx[a]! * d[a]!) * xs[a]!;
              const step = d[L]! * xs[L]!;
              for (let j = lo[L]!, at = off + (start[L]! + j * d[L]!) * xs[L]!; j < hi[L]!; j++, at += step) acc += src[at]!;
            } while (advanceOuter(idx, lo, hi));
          }
          const dv = div[q]!;
          out[o] = dv > 0 ? acc / dv : 0;
        }
      }
    }
    return [floatOutput(backend, x!.dtype, [N, C, ...w.outShape], out)];
  },
};
