import type { KernelConfig } from '../../../backend.js';
import { allocStorage, intRange, isFloat } from '../../../dtype.js';
import type { Window2d } from '../../../ops/window.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { sizeOf } from '../../../shape.js';
import { floatOutput, floatStorage } from './float_io.js';

/**
 * 2-D max pooling of x [N, C, H, W] (any strides) → values [N, C, OH, OW] and int64 indices
 * flattened into the (contiguous) NCHW input. The first maximum in window order wins; a window
 * entirely in the padding gives the dtype's lowest value and index -1.
 */
export const maxPoolKernel: KernelConfig<CpuBackend> = {
  name: 'MaxPool',
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
    const float = isFloat(x!.dtype);
    const lowest = float ? -Infinity : intRange(x!.dtype)[0];
    const src = floatStorage(x!);
    const size = N * C * OH * OW;
    const vals = float ? new Float32Array(size) : (allocStorage(x!.dtype, size) as Float32Array);
    const inds = new BigInt64Array(size);
    let o = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const base = x!.offset + n * sN + c * sC;
        const flat = (n * C + c) * H * W;
        for (let oh = 0; oh < OH; oh++) {
          const h0 = oh * sh - pt;
          for (let ow = 0; ow < OW; ow++, o++) {
            const w0 = ow * sw - pl;
            let best = lowest;
            let at = -1;
            for (let i = 0; i < kh; i++) {
              const ih = h0 + i * dh;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = w0 + j * dw;
                if (iw < 0 || iw >= W) continue;
                const v = src[base + ih * sH + iw * sW]!;
                if (at < 0 || v > best) {
                  best = v;
                  at = flat + ih * W + iw;
                }
              }
            }
            vals[o] = best;
            inds[o] = BigInt(at);
          }
        }
      }
    }
    const shape = [N, C, OH, OW];
    return [float ? floatOutput(backend, x!.dtype, shape, vals) : backend.output(x!.dtype, shape, vals), backend.output('int64', shape, inds)];
  },
};

/**
 * Sum `dy` into the input positions named by MaxPool's flattened indices: dy and indices
 * [N, C, OH, OW] → [N, C, H, W] (`attrs.imageShape` = [H, W]). MaxPool's gradient.
 */
export const maxUnpoolAddKernel: KernelConfig<CpuBackend> = {
  name: 'MaxUnpoolAdd',
  backend: 'cpu',
  run([dy, indices], attrs, backend) {
    const [H, W] = attrs.imageShape as [number, number];
    const [N, C] = dy!.shape as [number, number];
    const out = new Float32Array(N * C * H * W);
    const g = floatStorage(dy!);
    const iv = cpuValues<BigInt64Array>(indices!);
    const size = sizeOf(dy!.shape);
    for (let k = 0; k < size; k++) {
      const at = Number(iv[k]!);
      if (at >= 0) out[at] = out[at]! + g[k]!;
    }
    return [floatOutput(backend, dy!.dtype, [N, C, H, W], out)];
  },
};
