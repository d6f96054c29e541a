import type { KernelConfig } from '../../../backend.js';
import type { Window2d } from '../../../ops/window.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, roundF16 } from '../wgsl.js';
import { addWindow, windowLets } from './Im2Col.js';

/** One thread per output; the divisor counts taps inside the (padded, when including pads) input. */
export const averagePoolKernel: KernelConfig<WebGpuBackend> = {
  name: 'AveragePool',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const w = attrs as unknown as Window2d;
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [OH, OW] = w.outShape;
    const size = N * C * OH * OW;
    const u = new Uniforms();
    u.add(size, C, H, W, attrs.countIncludePad ? 1 : 0);
    const xs = u.add(...x.strides, x.offset);
    const wa = addWindow(u, w);
    const result = x.dtype === 'float16' ? roundF16('r') : 'r';
    return backend.runProgram({
      key: `AveragePool:${x.dtype}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `${windowLets(wa)}
  let C = u[1]; let H = u[2]; let W = u[3]; let inc = u[4] != 0;
  let ow = idx % OW;
  let oh = (idx / OW) % OH;
  let c = (idx / (OW * OH)) % C;
  let n = idx / (OW * OH * C);
  let base = u[${xs + 4}] + n * u[${xs}] + c * u[${xs + 1}];
  let hlo = select(0, -pt, inc); let hhi = select(H, H + pb, inc);
  let wlo = select(0, -pl, inc); let whi = select(W, W + pr, inc);
  var acc = 0.0;
  var ch = 0;
  var cw = 0;
  for (var j = 0; j < kw; j++) {
    let iw = ow * sw - pl + j * dw;
    if (iw >= wlo && iw < whi) { cw++; }
  }
  for (var i = 0; i < kh; i++) {
    let ih = oh * sh - pt + i * dh;
    if (ih >= hlo && ih < hhi) { ch++; }
    if (ih < 0 || ih >= H) { continue; }
    for (var j = 0; j < kw; j++) {
      let iw = ow * sw - pl + j * dw;
      if (iw >= 0 && iw < W) { acc = acc + f32(X[base + ih * u[${xs + 2}] + iw * u[${xs + 3}]]); }
    }
  }
  let d = ch * cw;
  let r = select(0.0, acc / f32(d), d > 0);
  Y[idx] = ${result};`)}`,
      inputs: [x],
      outputs: [{ dtype: x.dtype, shape: [N, C, OH, OW] }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
