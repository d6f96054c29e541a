import type { KernelConfig } from '../../../backend.js';
import { intRange, isFloat } from '../../../dtype.js';
import { type GpuTensor, type WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';
import { addWindowNd, adjointTapLoops, flatIndex, splitIndex, tapLoops, windowNdLets } from './window_nd.js';

/** One thread per output, any spatial rank (in the shader key): values and flattened indices (int64 stored as i32). */
export const maxPoolKernel: KernelConfig<WebGpuBackend, 'MaxPool'> = {
  name: 'MaxPool',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const w = attrs;
    const n = w.kernel.length;
    const [N, C] = x.shape as [number, number];
    const outShape = [N, C, ...w.outShape];
    const size = outShape.reduce((p, d) => p * d, 1);
    const u = new Uniforms();
    u.add(size, C);
    const xs = u.add(...x.strides, x.offset);
    const wa = addWindowNd(u, w, x.shape.slice(2));
    // -inf cannot be a WGSL constant: pass its bits at runtime
    const lowest = isFloat(x.dtype) ? `bitcast<f32>(u[${u.addF32(-Infinity)}])` : `i32(${intRange(x.dtype)[0]})`;
    const read = Array.from({ length: n }, (_, a) => ` + p${a} * u[${xs + 2 + a}]`).join('');
    return backend.runProgram({
      key: `MaxPool:${x.dtype}:${n}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }, { name: 'I', dtype: 'int64' }])}
${mainLinear('u[0]', `${windowNdLets(wa, n)}
  let C = u[1];
${splitIndex('idx', n, 'O', 'o', 'nc')}
  let base = u[${xs + n + 2}] + (nc / C) * u[${xs}] + (nc % C) * u[${xs + 1}];
  var best = ${lowest};
  var at = -1;
${tapLoops(n, `    let v = X[base${read}];
    if (at < 0 || v > best) { best = v; at = ${flatIndex('nc', n, 'p', 'D')}; }`)}
  Y[idx] = best;
  I[idx] = at;`)}`,
      inputs: [x],
      outputs: [
        { dtype: x.dtype, shape: outShape },
        { dtype: 'int64', shape: outShape },
      ],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/**
 * Gather-style MaxPool gradient, any spatial rank: one thread per input element sums dy over
 * the windows whose recorded argmax is that element (no atomics).
 */
export const maxUnpoolAddKernel: KernelConfig<WebGpuBackend, 'MaxUnpoolAdd'> = {
  name: 'MaxUnpoolAdd',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const dy = inputs[0] as GpuTensor;
    const ind = inputs[1] as GpuTensor;
    const w = attrs;
    const n = w.kernel.length;
    const image = attrs.imageShape;
    const [N, C] = dy.shape as [number, number];
    const outShape = [N, C, ...image];
    const size = outShape.reduce((p, d) => p * d, 1);
    const u = new Uniforms();
    u.add(size);
    const wa = addWindowNd(u, w, image);
    const result = dy.dtype === 'float16' ? 'unpack2x16float(pack2x16float(vec2<f32>(acc, 0.0))).x' : 'acc';
    return backend.runProgram({
      key: `MaxUnpoolAdd:${dy.dtype}:${n}`,
      source: () => `${declareBindings([{ name: 'DY', dtype: dy.dtype }, { name: 'I', dtype: 'int64' }], [{ name: 'Y', dtype: dy.dtype }])}
${mainLinear('u[0]', `${windowNdLets(wa, n)}
${splitIndex('idx', n, 'D', 'p', 'nc')}
  var acc = 0.0;
${adjointTapLoops(n, `    let o = ${flatIndex('nc', n, 'q', 'O')};
    if (I[o] == idx) { acc = acc + DY[o]; }`)}
  Y[idx] = ${result};`)}`,
      inputs: [dy, ind],
      outputs: [{ dtype: dy.dtype, shape: outShape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
