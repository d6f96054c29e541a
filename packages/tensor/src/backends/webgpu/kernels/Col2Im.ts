import type { KernelConfig } from '../../../backend.js';
import type { Window2d } from '../../../ops/window.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { addWindow, windowLets } from './Im2Col.js';

/**
 * Gather-style Col2Im: one thread per image pixel [N, C, H, W] sums the col entries of every
 * window tap that lands on it (no atomics).
 */
export const col2imKernel: KernelConfig<WebGpuBackend> = {
  name: 'Col2Im',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const col = inputs[0] as GpuTensor;
    const w = attrs as unknown as Window2d;
    const [H, W] = attrs.imageShape as [number, number];
    const [N, K] = col.shape as [number, number, number];
    const C = K / (w.kernel[0] * w.kernel[1]);
    const size = N * C * H * W;
    const u = new Uniforms();
    u.add(size, C, H, W);
    const cs = u.add(...col.strides, col.offset);
    const wa = addWindow(u, w);
    const result = col.dtype === 'float16' ? roundF16('acc') : 'acc';
    return backend.runProgram({
      key: `Col2Im:${col.dtype}`,
      source: () => `${declareBindings([{ name: 'COL', dtype: col.dtype }], [{ name: 'Y', dtype: col.dtype }])}
${mainLinear('u[0]', `${windowLets(wa)}
  let C = u[1]; let H = u[2]; let W = u[3];
  let x = idx % W;
  let y = (idx / W) % H;
  let c = (idx / (W * H)) % C;
  let n = idx / (W * H * C);
  var acc = 0.0;
  for (var i = 0; i < kh; i++) {
    let th = y + pt - i * dh;
    if (th < 0 || th % sh != 0 || th / sh >= OH) { continue; }
    for (var j = 0; j < kw; j++) {
      let tw = x + pl - j * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) { continue; }
      let k = (c * kh + i) * kw + j;
      let l = (th / sh) * OW + tw / sw;
      acc = acc + COL[u[${cs + 3}] + n * u[${cs}] + k * u[${cs + 1}] + l * u[${cs + 2}]];
    }
  }
  Y[idx] = ${result};`)}`,
      inputs: [col],
      outputs: [{ dtype: col.dtype, shape: [N, C, H, W] }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
