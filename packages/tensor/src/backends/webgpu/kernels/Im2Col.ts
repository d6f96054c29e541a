import type { KernelConfig } from '../../../backend.js';
import type { Window2d } from '../../../ops/window.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';

/** Uniform layout shared by the window kernels: window geometry at u[wAt..wAt+11]. */
export function addWindow(u: Uniforms, w: Window2d): number {
  return u.add(...w.kernel, ...w.strides, ...w.pads, ...w.dilations, ...w.outShape);
}

/** WGSL `let` lines naming the window geometry stored by `addWindow` at `at`. */
export function windowLets(at: number): string {
  const names = ['kh', 'kw', 'sh', 'sw', 'pt', 'pl', 'pb', 'pr', 'dh', 'dw', 'OH', 'OW'];
  return names.map((n, i) => `  let ${n} = u[${at + i}];`).join('\n');
}

/** One thread per col element [N, C*kh*kw, OH*OW]; reads x [N,C,H,W] through its strides. */
export const im2colKernel: KernelConfig<WebGpuBackend, 'Im2Col'> = {
  name: 'Im2Col',
  backend: 'webgpu',
  strided: true,
  run(inputs, attrs, backend) {
    const x = inputs[0] as GpuTensor;
    const w = attrs;
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const K = C * w.kernel[0] * w.kernel[1];
    const L = w.outShape[0] * w.outShape[1];
    const size = N * K * L;
    const u = new Uniforms();
    u.add(size, K, L, H, W);
    const xs = u.add(...x.strides, x.offset);
    const wa = addWindow(u, w);
    const zero = x.dtype === 'float32' || x.dtype === 'float16' ? '0.0' : '0';
    return backend.runProgram({
      key: `Im2Col:${x.dtype}`,
      source: () => `${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: x.dtype }])}
${mainLinear('u[0]', `${windowLets(wa)}
  let K = u[1]; let L = u[2]; let H = u[3]; let W = u[4];
  let l = idx % L;
  let r = idx / L;
  let row = r % K;
  let n = r / K;
  let j = row % kw;
  let i = (row / kw) % kh;
  let c = row / (kw * kh);
  let ih = (l / OW) * sh - pt + i * dh;
  let iw = (l % OW) * sw - pl + j * dw;
  if (ih < 0 || ih >= H || iw < 0 || iw >= W) { Y[idx] = ${zero}; return; }
  Y[idx] = X[u[${xs + 4}] + n * u[${xs}] + c * u[${xs + 1}] + ih * u[${xs + 2}] + iw * u[${xs + 3}]];`)}`,
      inputs: [x],
      outputs: [{ dtype: x.dtype, shape: [N, K, L] }],
      uniforms: u.values,
      dispatch: dispatch1D(size),
    });
  },
};
