import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';
import { axisDims } from './axis.js';
import { contiguousProgram } from './Contiguous.js';

/** Inputs per program: with the output and the uniforms that is WebGPU's default 8 storage buffers. */
export const CONCAT_MAX_INPUTS = 6;

function concatGroup(xs: readonly GpuTensor[], axis: number, backend: WebGpuBackend): GpuTensor {
  const first = xs[0]!;
  const total = xs.reduce((p, t) => p + t.shape[axis]!, 0);
  const shape = first.shape.map((d, i) => (i === axis ? total : d));
  const { inner } = axisDims(shape, axis);
  const size = sizeOf(shape);
  const u = new Uniforms();
  u.add(size, total, inner);
  const cum = u.add(...xs.map((_, k) => xs.slice(0, k + 1).reduce((p, t) => p + t.shape[axis]!, 0)));
  const lines = ['  let i = idx % u[2];', '  let j = (idx / u[2]) % u[1];', '  let o = idx / (u[2] * u[1]);', '  var lo = 0;'];
  xs.forEach((_, k) => {
    lines.push(`  if (j < u[${cum + k}]) { let dk = u[${cum + k}] - lo; Y[idx] = X${k}[(o * dk + j - lo) * u[2] + i]; return; }
  lo = u[${cum + k}];`);
  });
  return backend.runProgram({
    key: `Concat:${first.dtype}:${xs.length}`,
    source: () => `${declareBindings(xs.map((_, k) => ({ name: `X${k}`, dtype: first.dtype })), [{ name: 'Y', dtype: first.dtype }])}
${mainLinear('u[0]', lines.join('\n'))}`,
    inputs: xs,
    outputs: [{ dtype: first.dtype, shape }],
    uniforms: u.values,
    dispatch: dispatch1D(size),
  })[0]!;
}

/** Concat(axis): up to 6 inputs per program, chained for more (each link re-reads the partial result). */
export const concatKernel: KernelConfig<WebGpuBackend, 'Concat'> = {
  name: 'Concat',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const axis = attrs.axis;
    const xs = inputs as GpuTensor[];
    let acc = concatGroup(xs.slice(0, CONCAT_MAX_INPUTS), axis, backend);
    for (let k = CONCAT_MAX_INPUTS; k < xs.length; k += CONCAT_MAX_INPUTS - 1) {
      const next = concatGroup([acc, ...xs.slice(k, k + CONCAT_MAX_INPUTS - 1)], axis, backend);
      backend.release(acc.handle);
      acc = next;
    }
    return [acc];
  },
};

/** Slice copy: the input read with offset/strides (steps may be negative) into a contiguous output. */
export const sliceKernel: KernelConfig<WebGpuBackend, 'Slice'> = {
  name: 'Slice',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const starts = attrs.starts;
    const steps = attrs.steps;
    const offset = x.offset + starts.reduce((p, s, i) => p + s * x.strides[i]!, 0);
    const view: GpuTensor = { dtype: x.dtype, handle: x.handle, shape: attrs.shape, strides: x.strides.map((s, i) => s * steps[i]!), offset };
    return backend.runProgram(contiguousProgram(view));
  },
};

export const concatWebGpuKernels: KernelConfig<WebGpuBackend>[] = [concatKernel, sliceKernel];
