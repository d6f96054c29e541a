import type { KernelConfig } from '../../../backend.js';
import { type GpuTensor, type WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';
import { LINE_PRELUDE, axisDims } from './axis.js';

function makeArg(name: 'ArgMax' | 'ArgMin'): KernelConfig<WebGpuBackend, 'ArgMax' | 'ArgMin'> {
  const op = name === 'ArgMax' ? '>' : '<';
  return {
    name,
    backend: 'webgpu',
    run(inputs, attrs, backend) {
      const x = inputs[0] as GpuTensor;
      const axis = attrs.axis;
      const last = attrs.selectLastIndex;
      const { outer, d, inner } = axisDims(x.shape, axis);
      const u = new Uniforms();
      u.add(outer * inner, d, inner);
      const shape = x.shape.map((s, i) => (i === axis ? 1 : s));
      return backend.runProgram({
        key: `${name}:${x.dtype}:${last}`,
        source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: 'int64' }])}
${mainLinear('u[0]', `${LINE_PRELUDE}
  var best = 0;
  var bv = X[base];
  for (var j = 1; j < d; j++) {
    let c = X[base + j * inner];
    if (c ${op} bv${last ? ' || c == bv' : ''}) { best = j; bv = c; }
  }
  Y[idx] = best;`)}`,
        inputs: [x],
        outputs: [{ dtype: 'int64', shape: attrs.keepDims ? shape : shape.filter((_, i) => i !== axis) }],
        uniforms: u.values,
        dispatch: dispatch1D(outer * inner),
      });
    },
  };
}

/** ArgMax / ArgMin: one thread per output scanning its line. */
export const argWebGpuKernels: KernelConfig<WebGpuBackend, 'ArgMax' | 'ArgMin'>[] = [makeArg('ArgMax'), makeArg('ArgMin')];
