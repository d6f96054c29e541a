import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';

/** One thread per output element: copy from dy when on the slice grid, else zero. */
export const scatterSliceKernel: KernelConfig<WebGpuBackend, 'ScatterSlice'> = {
  name: 'ScatterSlice',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const dy = inputs[0] as GpuTensor;
    const shape = attrs.inputShape;
    const rank = shape.length;
    const size = sizeOf(shape);
    const u = new Uniforms();
    u.add(size);
    const outShape = u.add(...shape);
    const dyShape = u.add(...dy.shape);
    const starts = u.add(...attrs.starts);
    const steps = u.add(...attrs.steps);
    const lines: string[] = ['  var r = idx;', '  var src = 0;', '  var mul = 1;', '  var on = true;'];
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`  { let c = r % u[${outShape + d}] - u[${starts + d}]; r = r / u[${outShape + d}];
    let q = c / u[${steps + d}];
    if (c < 0 || c % u[${steps + d}] != 0 || q >= u[${dyShape + d}]) { on = false; }
    src = src + q * mul; mul = mul * u[${dyShape + d}]; }`);
    }
    const zero = wgslType(dy.dtype) === 'f32' ? '0.0' : '0';
    lines.push(`  if (on) { Y[idx] = DY[src]; } else { Y[idx] = ${zero}; }`);
    return backend.runProgram({
      key: `ScatterSlice:${dy.dtype}:${rank}`,
      source: () => `${declareBindings([{ name: 'DY', dtype: dy.dtype }], [{ name: 'Y', dtype: dy.dtype }])}
${mainLinear('u[0]', lines.join('\n'))}`,
      inputs: [dy],
      outputs: [{ dtype: dy.dtype, shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
