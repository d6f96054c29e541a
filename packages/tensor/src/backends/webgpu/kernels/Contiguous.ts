import type { KernelConfig } from '../../../backend.js';
import type { GpuProgram, GpuTensor, WebGpuBackend } from '../backend.js';
import { sizeOf } from '../../../shape.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, offsetFn } from '../wgsl.js';

/** Program copying a strided view into a contiguous buffer. */
export function contiguousProgram(x: GpuTensor): GpuProgram {
  const rank = x.shape.length;
  const size = sizeOf(x.shape);
  const u = new Uniforms();
  u.add(size);
  const shapeAt = u.add(...x.shape);
  const stridesAt = u.add(...x.strides);
  const offsetAt = u.add(x.offset);
  return {
    key: `Contiguous:${x.dtype}:${rank}`,
    source: () => `${declareBindings([{ name: 'x', dtype: x.dtype }], [{ name: 'y', dtype: x.dtype }])}
${offsetFn('srcOffset', rank, shapeAt, stridesAt, offsetAt)}
${mainLinear('u[0]', '  y[idx] = x[srcOffset(idx)];')}`,
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    uniforms: u.values,
    dispatch: dispatch1D(size),
  };
}

export const contiguousKernel: KernelConfig<WebGpuBackend, 'Contiguous'> = {
  name: 'Contiguous',
  backend: 'webgpu',
  strided: true,
  run([x], _attrs, backend) {
    return backend.runProgram(contiguousProgram(x as GpuTensor));
  },
};
