import type { KernelConfig } from '../../../backend.js';
import { intRange, isFloat } from '../../../dtype.js';
import type { Window2d } from '../../../ops/window.js';
import { type GpuTensor, type WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';
import { addWindow, windowLets } from './Im2Col.js';

/** One thread per output: values and flattened NCHW indices (int64 stored as i32). */
export const maxPoolKernel: KernelConfig<WebGpuBackend> = {
  name: 'MaxPool',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const w = attrs as unknown as Window2d;
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [OH, OW] = w.outShape;
    const size = N * C * OH * OW;
    const u = new Uniforms();
    u.add(size, C, H, W);
    const xs = u.add(...x.strides, x.offset);
    const wa = addWindow(u, w);
    // -inf cannot be a WGSL constant: pass its bits at runtime
    const lowest = isFloat(x.dtype) ? `bitcast<f32>(u[${u.addF32(-Infinity)}])` : `i32(${intRange(x.dtype)[0]})`;
    return backend.runProgram({
      key: `MaxPool:${x.dtype}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }, { name: 'I', dtype: 'int64' }])}
${mainLinear('u[0]', `${windowLets(wa)}
  let C = u[1]; let H = u[2]; let W = u[3];
  let ow = idx % OW;
  let oh = (idx / OW) % OH;
  let c = (idx / (OW * OH)) % C;
  let n = idx / (OW * OH * C);
  let base = u[${xs + 4}] + n * u[${xs}] + c * u[${xs + 1}];
  let flat = (n * C + c) * H * W;
  var best = ${lowest};
  var at = -1;
  for (var i = 0; i < kh; i++) {
    let ih = oh * sh - pt + i * dh;
    if (ih < 0 || ih >= H) { continue; }
    for (var j = 0; j < kw; j++) {
      let iw = ow * sw - pl + j * dw;
      if (iw < 0 || iw >= W) { continue; }
      let v = X[base + ih * u[${xs + 2}] + iw * u[${xs + 3}]];
      if (at < 0 || v > best) { best = v; at = flat + ih * W + iw; }
    }
  }
  Y[idx] = best;
  I[idx] = at;`)}`,
      inputs: [x],
      outputs: [
        { dtype: x.dtype, shape: [N, C, OH, OW] },
        { dtype: 'int64', shape: [N, C, OH, OW] },
      ],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};

/**
 * Gather-style MaxPool gradient: one thread per input pixel sums dy over the windows whose
 * recorded argmax is that pixel (no atomics).
 */
export const maxUnpoolAddKernel: KernelConfig<WebGpuBackend> = {
  name: 'MaxUnpoolAdd',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const dy = inputs[0] as GpuTensor;
    const ind = inputs[1] as GpuTensor;
    const w = attrs as unknown as Window2d;
    const [H, W] = attrs.imageShape as [number, number];
    const [N, C] = dy.shape as [number, number];
    const size = N * C * H * W;
    const u = new Uniforms();
    u.add(size, C, H, W);
    const wa = addWindow(u, w);
    const result = dy.dtype === 'float16' ? 'unpack2x16float(pack2x16float(vec2<f32>(acc, 0.0))).x' : 'acc';
    return backend.runProgram({
      key: `MaxUnpoolAdd:${dy.dtype}`,
      source: () => `${declareBindings([{ name: 'DY', dtype: dy.dtype }, { name: 'I', dtype: 'int64' }], [{ name: 'Y', dtype: dy.dtype }])}
${mainLinear('u[0]', `${windowLets(wa)}
  let C = u[1]; let H = u[2]; let W = u[3];
  let x = idx % W;
  let y = (idx / W) % H;
  let nc = idx / (W * H);
  var acc = 0.0;
  for (var i = 0; i < kh; i++) {
    let th = y + pt - i * dh;
    if (th < 0 || th % sh != 0 || th / sh >= OH) { continue; }
    for (var j = 0; j < kw; j++) {
      let tw = x + pl - j * dw;
      if (tw < 0 || tw % sw != 0 || tw / sw >= OW) { continue; }
      let o = (nc * OH + th / sh) * OW + tw / sw;
      if (I[o] == idx) { acc = acc + DY[o]; }
    }
  }
  Y[idx] = ${result};`)}`,
      inputs: [dy, ind],
      outputs: [{ dtype: dy.dtype, shape: [N, C, H, W] }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
