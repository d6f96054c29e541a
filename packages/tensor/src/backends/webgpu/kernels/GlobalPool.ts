import type { KernelConfig } from '../../../backend.js';
import { intRange, isFloat } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';

/** One thread per (n, c) row, averaging (or taking the max of) its spatial elements. */
function globalPool<N extends 'GlobalAveragePool' | 'GlobalMaxPool'>(name: N, max: boolean): KernelConfig<WebGpuBackend, N> {
  return {
    name,
    backend: 'webgpu',
    run(inputs, _attrs, backend) {
      const x = inputs[0] as GpuTensor;
      const rows = x.shape[0]! * x.shape[1]!;
      const S = sizeOf(x.shape.slice(2));
      const u = new Uniforms();
      u.add(rows, S);
      const float = isFloat(x.dtype);
      // -inf cannot be a WGSL constant: its bits are passed in u[2]
      u.addF32(-Infinity);
      const init = max ? (float ? 'bitcast<f32>(u[2])' : `i32(${intRange(x.dtype)[0]})`) : '0.0';
      const step = max ? (float ? 'if (v > acc || v != v) { acc = v; }' : 'acc = max(acc, v);') : 'acc = acc + v;';
      let result = max ? 'acc' : 'acc / f32(u[1])';
      if (x.dtype === 'float16') result = roundF16(result);
      return backend.runProgram({
        key: `${name}:${x.dtype}`,
        source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `  let S = u[1];
  var acc = ${init};
  for (var k = 0; k < S; k++) {
    let v = X[idx * S + k];
    ${step}
  }
  Y[idx] = ${result};`)}`,
        inputs: [x],
        outputs: [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }],
        uniforms: u.values,
        dispatch: dispatch1D(rows),
      });
    },
  };
}

export const globalAveragePoolKernel = globalPool('GlobalAveragePool', false);
export const globalMaxPoolKernel = globalPool('GlobalMaxPool', true);
