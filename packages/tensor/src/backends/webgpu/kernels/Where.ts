import type { KernelConfig } from '../../../backend.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, offsetFn } from '../wgsl.js';

/** Where(cond, a, b) with 3-way broadcasting over any strides; one thread per output element. */
export const whereKernel: KernelConfig<WebGpuBackend, 'Where'> = {
  name: 'Where',
  backend: 'webgpu',
  strided: true,
  run(inputs, _attrs, backend) {
    const [c, a, b] = inputs as GpuTensor[];
    const shape = broadcastShapes(c!.shape, a!.shape, b!.shape);
    const rank = shape.length;
    const size = sizeOf(shape);
    const dtype = a!.dtype;
    const u = new Uniforms();
    u.add(size);
    const shapeAt = u.add(...shape);
    const offs = [c!, a!, b!].map((t) => {
      const s = u.add(...broadcastStrides(t.shape, t.strides, shape));
      return [s, u.add(t.offset)] as const;
    });
    return backend.runProgram({
      key: `Where:${dtype}:${rank}`,
      source: () => `${declareBindings([{ name: 'C', dtype: 'bool' }, { name: 'A', dtype }, { name: 'B', dtype }], [{ name: 'Y', dtype }])}
${['offC', 'offA', 'offB'].map((n, i) => offsetFn(n, rank, shapeAt, offs[i]![0], offs[i]![1])).join('\n')}
${mainLinear('u[0]', '  Y[idx] = select(B[offB(idx)], A[offA(idx)], C[offC(idx)] != 0);')}`,
      inputs: [c!, a!, b!],
      outputs: [{ dtype, shape }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
