import type { KernelConfig } from '../../../backend.js';
import type { DType } from '../../../dtype.js';
import { sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, offsetFn, roundF16 } from '../wgsl.js';

/** WGSL pieces of a reduction: accumulator init, step (uses `acc`, `v`), final (uses `acc`, `n`). */
export interface GpuReducer {
  readonly init: (t: 'f32' | 'i32') => string;
  readonly step: string;
  readonly finish?: string;
  readonly outDtype?: DType;
}

/** One thread per output element, looping over the reduced elements (any strides). */
export function makeReduceKernel(name: string, r: GpuReducer): KernelConfig<WebGpuBackend> {
  return {
    name,
    backend: 'webgpu',
    strided: true,
    run(inputs, attrs, backend) {
      const x = inputs[0] as GpuTensor;
      const axes = attrs.axes as number[];
      const keepDims = attrs.keepDims as boolean;
      const keptShape: number[] = [];
      const keptStrides: number[] = [];
      const redShape: number[] = [];
      const redStrides: number[] = [];
      x.shape.forEach((d, i) => {
        if (axes.includes(i)) {
          redShape.push(d);
          redStrides.push(x.strides[i]!);
        } else {
          keptShape.push(d);
          keptStrides.push(x.strides[i]!);
        }
      });
      const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptShape;
      const dtype = r.outDtype ?? x.dtype;
      const outSize = sizeOf(outShape);
      const u = new Uniforms();
      u.add(outSize, sizeOf(redShape));
      const kShape = u.add(...keptShape);
      const kStr = u.add(...keptStrides);
      const off = u.add(x.offset);
      const rShape = u.add(...redShape);
      const rStr = u.add(...redStrides);
      const zero = u.add(0);
      const t = wgslType(x.dtype);
      const ot = wgslType(dtype);
      let result = r.finish ?? 'acc';
      if (ot !== t) result = `${ot}(${result})`;
      if (dtype === 'float16') result = roundF16(result);
      return backend.runProgram({
        key: `${name}:${x.dtype}:${dtype}:${keptShape.length}:${redShape.length}`,
        source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype }])}
${offsetFn('baseOf', keptShape.length, kShape, kStr, off)}
${offsetFn('redOf', redShape.length, rShape, rStr, zero)}
${mainLinear('u[0]', `  let base = baseOf(idx);
  let n = u[1];
  var acc: ${t} = ${r.init(t)};
  for (var k = 0; k < n; k++) {
    let v = X[base + redOf(k)];
    ${r.step}
  }
  Y[idx] = ${result};`)}`,
        inputs: [x],
        outputs: [{ dtype, shape: outShape }],
        uniforms: u.values,
        dispatch: dispatch1D(outSize),
      });
    },
  };
}

export const reduceWebGpuKernels: KernelConfig<WebGpuBackend>[] = [
  makeReduceKernel('ReduceSum', { init: (t) => (t === 'f32' ? '0.0' : '0'), step: 'acc = acc + v;' }),
];
