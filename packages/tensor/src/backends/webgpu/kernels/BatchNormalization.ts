import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';

/** One thread per element; channel = (idx / inner) % C. */
export const batchNormKernel: KernelConfig<WebGpuBackend, 'BatchNormalization'> = {
  name: 'BatchNormalization',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const [x, g, b, m, v] = inputs as [GpuTensor, GpuTensor, GpuTensor, GpuTensor, GpuTensor];
    const size = sizeOf(x.shape);
    const u = new Uniforms();
    u.add(size, x.shape[1]!, sizeOf(x.shape.slice(2)));
    u.addF32(attrs.epsilon);
    const result = x.dtype === 'float16' ? roundF16('r') : 'r';
    const names = ['X', 'G', 'B', 'M', 'V'];
    return backend.runProgram({
      key: `BatchNormalization:${x.dtype}`,
      source: () => `${declareBindings(names.map((name, i) => ({ name, dtype: inputs[i]!.dtype })), [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `  let c = (idx / u[2]) % u[1];
  let a = G[c] / sqrt(V[c] + bitcast<f32>(u[3]));
  let r = (X[idx] - M[c]) * a + B[c];
  Y[idx] = ${result};`)}`,
      inputs: [x, g, b, m, v],
      outputs: [{ dtype: x.dtype, shape: x.shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
