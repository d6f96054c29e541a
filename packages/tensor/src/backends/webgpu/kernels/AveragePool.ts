import type { KernelConfig } from '../../../backend.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { addWindowNd, splitIndex, tapLoops, windowNdLets } from './window_nd.js';

/**
 * One thread per output, any spatial rank (in the shader key); the divisor is the product of
 * the per-axis counts of taps inside the (padded, when including pads) input.
 */
export const averagePoolKernel: KernelConfig<WebGpuBackend, 'AveragePool'> = {
  name: 'AveragePool',
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
    u.add(size, C, attrs.countIncludePad ? 1 : 0);
    const xs = u.add(...x.strides, x.offset);
    const wa = addWindowNd(u, w, x.shape.slice(2));
    const result = x.dtype === 'float16' ? roundF16('r') : 'r';
    const read = Array.from({ length: n }, (_, a) => ` + p${a} * u[${xs + 2 + a}]`).join('');
    const counts = Array.from(
      { length: n },
      (_, a) => `  var c${a} = 0;
  for (var j = 0; j < k${a}; j++) {
    let p = o${a} * s${a} - pb${a} + j * d${a};
    if (p >= select(0, -pb${a}, inc) && p < select(D${a}, D${a} + pe${a}, inc)) { c${a}++; }
  }`,
    ).join('\n');
    const divisor = Array.from({ length: n }, (_, a) => `c${a}`).join(' * ');
    return backend.runProgram({
      key: `AveragePool:${x.dtype}:${n}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `${windowNdLets(wa, n)}
  let C = u[1]; let inc = u[2] != 0;
${splitIndex('idx', n, 'O', 'o', 'nc')}
  let base = u[${xs + n + 2}] + (nc / C) * u[${xs}] + (nc % C) * u[${xs + 1}];
${counts}
  var acc = 0.0;
${tapLoops(n, `    acc = acc + f32(X[base${read}]);`)}
  let dv = ${divisor};
  let r = select(0.0, acc / f32(dv), dv > 0);
  Y[idx] = ${result};`)}`,
      inputs: [x],
      outputs: [{ dtype: x.dtype, shape: outShape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
