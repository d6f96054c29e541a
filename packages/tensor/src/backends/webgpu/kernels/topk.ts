import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';
import { axisDims } from './axis.js';

/**
 * TopK: one thread per input element counts the elements of its line that come before it
 * (better value, or equal value at a lower index); ranks below k write their slot. Sorted,
 * O(d) per thread, no shared state.
 */
export const topkKernel: KernelConfig<WebGpuBackend, 'TopK'> = {
  name: 'TopK',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const axis = attrs.axis;
    const k = attrs.k;
    const largest = attrs.largest;
    const { d, inner } = axisDims(x.shape, axis);
    const size = sizeOf(x.shape);
    const u = new Uniforms();
    u.add(size, d, inner, k);
    const op = largest ? '>' : '<';
    const shape = x.shape.map((s, i) => (i === axis ? k : s));
    return backend.runProgram({
      key: `TopK:${x.dtype}:${largest}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'V', dtype: x.dtype }, { name: 'I', dtype: 'int64' }])}
${mainLinear('u[0]', `  let d = u[1];
  let inner = u[2];
  let i = idx % inner;
  let j = (idx / inner) % d;
  let o = idx / (inner * d);
  let base = o * d * inner + i;
  let v = X[idx];
  var rank = 0;
  for (var m = 0; m < d; m++) {
    let w = X[base + m * inner];
    if (w ${op} v || (w == v && m < j)) { rank++; }
  }
  if (rank < u[3]) {
    let at = (o * u[3] + rank) * inner + i;
    V[at] = v;
    I[at] = j;
  }`)}`,
      inputs: [x],
      outputs: [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/** OneHot(depth, axis, off/on values) → float32: one thread per output element. */
export const oneHotKernel: KernelConfig<WebGpuBackend, 'OneHot'> = {
  name: 'OneHot',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const ind = inputs[0] as GpuTensor;
    const depth = attrs.depth;
    const axis = attrs.axis;
    const [off, on] = attrs.values;
    const shape = [...ind.shape.slice(0, axis), depth, ...ind.shape.slice(axis)];
    const { inner } = axisDims(shape, axis);
    const size = sizeOf(shape);
    const u = new Uniforms();
    u.add(size, depth, inner);
    const vals = u.addF32(off, on);
    return backend.runProgram({
      key: 'OneHot',
      source: () => `${declareBindings([{ name: 'I', dtype: 'int32' }], [{ name: 'Y', dtype: 'float32' }])}
${mainLinear('u[0]', `  let inner = u[2];
  let i = idx % inner;
  let j = (idx / inner) % u[1];
  let o = idx / (inner * u[1]);
  var t = I[o * inner + i];
  if (t < 0) { t = t + u[1]; }
  Y[idx] = select(bitcast<f32>(u[${vals}]), bitcast<f32>(u[${vals + 1}]), t == j);`)}`,
      inputs: [ind],
      outputs: [{ dtype: 'float32', shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

export const topkWebGpuKernels: KernelConfig<WebGpuBackend>[] = [topkKernel, oneHotKernel];
