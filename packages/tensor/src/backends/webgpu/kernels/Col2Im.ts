import type { KernelConfig } from '../../../backend.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { addWindowNd, adjointTapLoops, flatIndex, splitIndex, windowNdLets } from './window_nd.js';

/**
 * Gather-style Col2Im, any spatial rank (in the shader key): one thread per image element
 * [N, C, D1, ..., Dn] sums the col entries of every window tap that lands on it (no atomics).
 */
export const col2imKernel: KernelConfig<WebGpuBackend, 'Col2Im'> = {
  name: 'Col2Im',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const col = inputs[0] as GpuTensor;
    const w = attrs;
    const n = w.kernel.length;
    const image = attrs.imageShape;
    const [N, K] = col.shape as [number, number, number];
    const C = K / w.kernel.reduce((p, d) => p * d, 1);
    const outShape = [N, C, ...image];
    const size = outShape.reduce((p, d) => p * d, 1);
    const u = new Uniforms();
    u.add(size, C);
    const cs = u.add(...col.strides, col.offset);
    const wa = addWindowNd(u, w, image);
    const result = col.dtype === 'float16' ? roundF16('acc') : 'acc';
    return backend.runProgram({
      key: `Col2Im:${col.dtype}:${n}`,
      source: () => `${declareBindings([{ name: 'COL', dtype: col.dtype }], [{ name: 'Y', dtype: col.dtype }])}
${mainLinear('u[0]', `${windowNdLets(wa, n)}
  let C = u[1];
${splitIndex('idx', n, 'D', 'p', 'nc')}
  let b = nc / C;
  let c = nc % C;
  var acc = 0.0;
${adjointTapLoops(n, `    let k = ${flatIndex('c', n, 'i', 'k')};
    let l = ${flatIndex('0', n, 'q', 'O')};
    acc = acc + COL[u[${cs + 3}] + b * u[${cs}] + k * u[${cs + 1}] + l * u[${cs + 2}]];`)}
  Y[idx] = ${result};`)}`,
      inputs: [col],
      outputs: [{ dtype: col.dtype, shape: outShape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
