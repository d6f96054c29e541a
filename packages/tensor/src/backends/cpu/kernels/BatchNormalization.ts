import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { CpuBackend } from '../backend.js';
import { floatOutput, floatStorage } from './float_io.js';

/**
 * Inference batch normalization over channel axis 1 of x [N, C, ...]:
 * y = (x - mean) / sqrt(var + eps) * scale + bias, with per-channel [C] parameters.
 */
export const batchNormKernel: KernelConfig<CpuBackend, 'BatchNormalization'> = {
  name: 'BatchNormalization',
  backend: 'cpu',
  run([x, scale, bias, mean, variance], attrs, backend) {
    const eps = attrs.epsilon;
    const [N, C] = x!.shape as [number, number];
    const inner = sizeOf(x!.shape.slice(2));
    const xs = floatStorage(x!);
    const [g, b, m, v] = [scale, bias, mean, variance].map((t) => floatStorage(t!)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const out = new Float32Array(sizeOf(x!.shape));
    for (let c = 0; c < C; c++) {
      const a = g[c]! / Math.sqrt(v[c]! + eps);
      const shift = b[c]! - m[c]! * a;
      for (let n = 0; n < N; n++) {
        const start = (n * C + c) * inner;
        for (let k = start; k < start + inner; k++) out[k] = xs[k]! * a + shift;
      }
    }
    return [floatOutput(backend, x!.dtype, x!.shape, out)];
  },
};
