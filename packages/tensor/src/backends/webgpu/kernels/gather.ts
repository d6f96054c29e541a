import type { KernelConfig } from '../../../backend.js';
import { contiguousStrides, sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { axisDims } from './axis.js';

// Out-of-range indices cannot raise on the GPU: Gather/GatherElements read 0 for them and
// ScatterElements skips them (the cpu kernels throw an ArgumentError).

const zero = (t: GpuTensor): string => (wgslType(t.dtype) === 'f32' ? '0.0' : '0');

/** Gather(axis): one thread per output element. */
export const gatherKernel: KernelConfig<WebGpuBackend, 'Gather'> = {
  name: 'Gather',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const ind = inputs[1] as GpuTensor;
    const axis = attrs.axis;
    const { outer, d, inner } = axisDims(x.shape, axis);
    const n = sizeOf(ind.shape);
    const size = outer * n * inner;
    const u = new Uniforms();
    u.add(size, d, inner, n);
    const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
    return backend.runProgram({
      key: `Gather:${x.dtype}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }, { name: 'I', dtype: 'int32' }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `  let i = idx % u[2];
  let k = (idx / u[2]) % u[3];
  let o = idx / (u[2] * u[3]);
  var j = I[k];
  if (j < 0) { j = j + u[1]; }
  if (j < 0 || j >= u[1]) { Y[idx] = ${zero(x)}; return; }
  Y[idx] = X[(o * u[1] + j) * u[2] + i];`)}`,
      inputs: [x, ind],
      outputs: [{ dtype: x.dtype, shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/** GatherElements(axis): one thread per output (= indices) element. */
export const gatherElementsKernel: KernelConfig<WebGpuBackend, 'GatherElements'> = {
  name: 'GatherElements',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const ind = inputs[1] as GpuTensor;
    const axis = attrs.axis;
    const rank = x.shape.length;
    const size = sizeOf(ind.shape);
    const u = new Uniforms();
    u.add(size);
    const iShape = u.add(...ind.shape);
    const xStr = u.add(...contiguousStrides(x.shape));
    const axisSize = u.add(x.shape[axis]!);
    const lines = ['  var r = idx;', '  var q = 0;'];
    for (let dd = rank - 1; dd >= 0; dd--) {
      lines.push(`  { let c = r % u[${iShape + dd}]; r = r / u[${iShape + dd}];`);
      if (dd === axis) {
        lines.push(`    var j = I[idx]; if (j < 0) { j = j + u[${axisSize}]; }
    if (j < 0 || j >= u[${axisSize}]) { Y[idx] = ${zero(x)}; return; }
    q = q + j * u[${xStr + dd}]; }`);
      } else lines.push(`    q = q + c * u[${xStr + dd}]; }`);
    }
    lines.push('  Y[idx] = X[q];');
    return backend.runProgram({
      key: `GatherElements:${x.dtype}:${rank}:${axis}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }, { name: 'I', dtype: 'int32' }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', lines.join('\n'))}`,
      inputs: [x, ind],
      outputs: [{ dtype: x.dtype, shape: ind.shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/**
 * ScatterElements(axis, reduction none|add): one thread per line of data along `axis` copies its
 * line, then applies that line's updates in index order (deterministic, no atomics needed).
 */
export const scatterElementsKernel: KernelConfig<WebGpuBackend, 'ScatterElements'> = {
  name: 'ScatterElements',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const data = inputs[0] as GpuTensor;
    const ind = inputs[1] as GpuTensor;
    const upd = inputs[2] as GpuTensor;
    const axis = attrs.axis;
    const add = attrs.reduction === 'add';
    const rank = data.shape.length;
    const dAxis = data.shape[axis]!;
    const lines = dAxis === 0 ? 0 : sizeOf(data.shape) / dAxis;
    const u = new Uniforms();
    u.add(lines);
    const dShape = u.add(...data.shape);
    const dStr = u.add(...contiguousStrides(data.shape));
    const iShape = u.add(...ind.shape);
    const iStr = u.add(...contiguousStrides(ind.shape));
    const body = ['  var r = idx;', '  var q = 0;', '  var p = 0;', '  var inside = true;'];
    for (let d = rank - 1; d >= 0; d--) {
      if (d === axis) continue;
      body.push(`  { let c = r % u[${dShape + d}]; r = r / u[${dShape + d}]; q = q + c * u[${dStr + d}]; p = p + c * u[${iStr + d}];
    if (c >= u[${iShape + d}]) { inside = false; } }`);
    }
    const val = add ? 'Y[q + t * u[' + (dStr + axis) + ']] + U[p + j * u[' + (iStr + axis) + ']]' : 'U[p + j * u[' + (iStr + axis) + ']]';
    const res = data.dtype === 'float16' ? roundF16(val) : val;
    body.push(`  for (var k = 0; k < u[${dShape + axis}]; k++) { Y[q + k * u[${dStr + axis}]] = X[q + k * u[${dStr + axis}]]; }
  if (!inside) { return; }
  for (var j = 0; j < u[${iShape + axis}]; j++) {
    var t = I[p + j * u[${iStr + axis}]];
    if (t < 0) { t = t + u[${dShape + axis}]; }
    if (t < 0 || t >= u[${dShape + axis}]) { continue; }
    Y[q + t * u[${dStr + axis}]] = ${res};
  }`);
    return backend.runProgram({
      key: `ScatterElements:${data.dtype}:${rank}:${axis}:${add}`,
      source: () => `${declareBindings([{ name: 'X', dtype: data.dtype }, { name: 'I', dtype: 'int32' }, { name: 'U', dtype: data.dtype }], [{ name: 'Y', dtype: data.dtype }])}
${mainLinear('u[0]', body.join('\n'))}`,
      inputs: [data, ind, upd],
      outputs: [{ dtype: data.dtype, shape: data.shape }],
      uniforms: u.values,
      dispatch: dispatch1D(lines),
    });
  },
};

export const gatherWebGpuKernels: KernelConfig<WebGpuBackend>[] = [gatherKernel, gatherElementsKernel, scatterElementsKernel];
