import type { KernelConfig } from '../../../backend.js';
import { allocStorage, intRange, isFloat } from '../../../dtype.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { sizeOf, contiguousStrides } from '../../../shape.js';
import { floatOutput, floatStorage } from './float_io.js';
import { WindowWalker, advanceOuter } from './window_nd.js';

/**
 * Max pooling of x [N, C, D1, ..., Dn] (any n, any strides) → values [N, C, O1, ..., On] and
 * int64 indices flattened into the (contiguous) input. The first maximum in window order wins;
 * a window entirely in the padding gives the dtype's lowest value and index -1.
 */
export const maxPoolKernel: KernelConfig<CpuBackend, 'MaxPool'> = {
  name: 'MaxPool',
  backend: 'cpu',
  strided: true,
  run([x], attrs, backend) {
    const w = attrs;
    const n = w.kernel.length;
    const L = n - 1;
    const [N, C] = x!.shape as [number, number];
    const dims = x!.shape.slice(2);
    const xs = x!.strides.slice(2);
    const fs = contiguousStrides(dims);
    const d = w.dilations;
    const image = sizeOf(dims);
    const Q = sizeOf(w.outShape);
    const float = isFloat(x!.dtype);
    const lowest = float ? -Infinity : intRange(x!.dtype)[0];
    const src = floatStorage(x!);
    const size = N * C * Q;
    const vals = float ? new Float32Array(size) : (allocStorage(x!.dtype, size) as Float32Array);
    const inds = new BigInt64Array(size);
    const walk = new WindowWalker(w, dims);
    const { start, lo, hi } = walk;
    const idx = new Int32Array(n);
    let o = 0;
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        const base = x!.offset + b * x!.strides[0]! + c * x!.strides[1]!;
        const flat = (b * C + c) * image;
        walk.reset();
        for (let q = 0; q < Q; q++, o++) {
          let best = lowest;
          let at = -1;
          if (walk.next()) {
            for (let a = 0; a < L; a++) idx[a] = lo[a]!;
            do {
              let off = base;
              let fl = flat;
              for (let a = 0; a < L; a++) {
                const p = start[a]! + idx[a]! * d[a]!;
                off += p * xs[a]!;
                fl += p * fs[a]!;
              }
              for (let j = lo[L]!, p = start[L]! + j * d[L]!; j < hi[L]!; j++, p += d[L]!) {
                const v = src[off + p * xs[L]!]!;
                if (at < 0 || v > best) {
                  best = v;
                  at = fl + p;
                }
              }
            } while (advanceOuter(idx, lo, hi));
          }
          vals[o] = best;
          inds[o] = BigInt(at);
        }
      }
    }
    const shape = [N, C, ...w.outShape];
    return [float ? floatOutput(backend, x!.dtype, shape, vals) : backend.output(x!.dtype, shape, vals), backend.output('int64', shape, inds)];
  },
};

/**
 * Sum `dy` into the input positions named by MaxPool's flattened indices: dy and indices
 * [N, C, O1, ..., On] → [N, C, ...attrs.imageShape]. MaxPool's gradient.
 */
export const maxUnpoolAddKernel: KernelConfig<CpuBackend, 'MaxUnpoolAdd'> = {
  name: 'MaxUnpoolAdd',
  backend: 'cpu',
  run([dy, indices], attrs, backend) {
    const image = attrs.imageShape;
    const [N, C] = dy!.shape as [number, number];
    const out = new Float32Array(N * C * sizeOf(image));
    const g = floatStorage(dy!);
    const iv = cpuValues<BigInt64Array>(indices!);
    const size = sizeOf(dy!.shape);
    for (let k = 0; k < size; k++) {
      const at = Number(iv[k]!);
      if (at >= 0) out[at] = out[at]! + g[k]!;
    }
    return [floatOutput(backend, dy!.dtype, [N, C, ...image], out)];
  },
};
