import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';

/**
 * SgdUpdate(param, grad[, buf]) → (param'[, buf']) in one dispatch (float32); the buffer input
 * is absent on the first momentum step. Static key: momentum or not, nesterov, first step; the
 * scalars are uniforms.
 */
export const sgdUpdateKernel: KernelConfig<WebGpuBackend, 'SgdUpdate'> = {
  name: 'SgdUpdate',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const [p, g, b] = inputs as GpuTensor[];
    const a = attrs;
    const n = sizeOf(p!.shape);
    const u = new Uniforms();
    u.add(n);
    const s = u.addF32(a.lr, a.momentum, 1 - a.dampening, a.weightDecay);
    const f = (k: number): string => `bitcast<f32>(u[${s + k}])`;
    const f32 = { dtype: 'float32' as const };
    const hasBuf = a.momentum !== 0;
    const readBuf = hasBuf && !!b && !a.first;
    const body = hasBuf
      ? `  let p = P[idx];
  let g = G[idx] + ${f(3)} * p;
  let b = ${readBuf ? `${f(1)} * B[idx] + ${f(2)} * g` : 'g'};
  BO[idx] = b;
  PO[idx] = p - ${f(0)} * ${a.nesterov ? `(g + ${f(1)} * b)` : 'b'};`
      : `  let p = P[idx];
  PO[idx] = p - ${f(0)} * (G[idx] + ${f(3)} * p);`;
    const ins = readBuf ? ['P', 'G', 'B'] : ['P', 'G'];
    const outs = hasBuf ? ['PO', 'BO'] : ['PO'];
    return backend.runProgram({
      key: `SgdUpdate:${hasBuf}:${hasBuf && a.nesterov}:${readBuf}`,
      source: () => `
${declareBindings(ins.map((name) => ({ name, ...f32 })), outs.map((name) => ({ name, ...f32 })))}
${mainLinear('u[0]', body)}`,
      inputs: readBuf ? [p!, g!, b!] : [p!, g!],
      outputs: outs.map(() => ({ dtype: 'float32' as const, shape: p!.shape })),
      uniforms: u.values,
      dispatch: dispatch1D(n),
    });
  },
};
