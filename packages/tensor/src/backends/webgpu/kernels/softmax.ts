import type { KernelConfig } from '../../../backend.js';
import { type GpuTensor, type WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { LINE_PRELUDE, axisDims } from './axis.js';

function makeSoftmax(name: 'Softmax' | 'LogSoftmax'): KernelConfig<WebGpuBackend, 'Softmax' | 'LogSoftmax'> {
  return {
    name,
    backend: 'webgpu',
    run(inputs, attrs, backend) {
      const x = inputs[0] as GpuTensor;
      const { outer, d, inner } = axisDims(x.shape, attrs.axis);
      const u = new Uniforms();
      u.add(outer * inner, d, inner);
      const val = name === 'Softmax' ? 'exp(X[k] - m) / s' : 'X[k] - m - log(s)';
      const res = x.dtype === 'float16' ? roundF16(val) : val;
      return backend.runProgram({
        key: `${name}:${x.dtype}`,
        source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `${LINE_PRELUDE}
  var m = X[base];
  for (var j = 1; j < d; j++) { m = max(m, X[base + j * inner]); }
  var s = 0.0;
  for (var j = 0; j < d; j++) { s = s + exp(X[base + j * inner] - m); }
  for (var j = 0; j < d; j++) {
    let k = base + j * inner;
    Y[k] = ${res};
  }`)}`,
        inputs: [x],
        outputs: [{ dtype: x.dtype, shape: x.shape }],
        uniforms: u.values,
        dispatch: dispatch1D(outer * inner),
      });
    },
  };
}

/** Softmax / LogSoftmax: one thread per line along the axis (max-subtracted). */
export const softmaxWebGpuKernels: KernelConfig<WebGpuBackend, 'Softmax' | 'LogSoftmax'>[] = [makeSoftmax('Softmax'), makeSoftmax('LogSoftmax')];
