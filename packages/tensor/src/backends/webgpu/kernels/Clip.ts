import type { KernelConfig } from '../../../backend.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { mapProgram } from './unary.js';

/**
 * Clip on the GPU. Which bounds exist is static (in the key); their values are uniforms. Uses
 * select() rather than clamp() so NaN passes through and min > max gives max (as on cpu).
 */
export const clipKernel: KernelConfig<WebGpuBackend, 'Clip'> = {
  name: 'Clip',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const lo = attrs.min;
    const hi = attrs.max;
    const p: number[] = [];
    let e = 'x';
    if (lo !== undefined) e = `select(${e}, p${p.push(lo) - 1}, ${e} < p${p.length - 1})`;
    if (hi !== undefined) e = `select(${e}, p${p.push(hi) - 1}, ${e} > p${p.length - 1})`;
    const float = wgslType(x.dtype) === 'f32';
    // integer bounds beyond int32 (int64 tensors live in i32 on the GPU) act as int32's limits
    const params = float ? p : p.map((v) => Math.max(-2147483648, Math.min(2147483647, v)));
    return backend.runProgram(
      mapProgram(x, {
        key: `Clip:${lo !== undefined ? 'l' : ''}${hi !== undefined ? 'h' : ''}`,
        outDtype: x.dtype,
        expr: e,
        ...(float ? { f32Params: params } : { i32Params: params }),
      }),
    );
  },
};
