import type { KernelConfig } from '../../../backend.js';
import { sizeOf } from '../../../shape.js';
import type { GpuTensor, WebGpuBackend } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear } from '../wgsl.js';

/**
 * AdamUpdate(param, grad, m, v) → (param', m', v') in one dispatch (float32). The scalars are
 * uniforms, so changing lr or the step does not recompile; the key is only `decoupled`.
 */
export const adamUpdateKernel: KernelConfig<WebGpuBackend, 'AdamUpdate'> = {
  name: 'AdamUpdate',
  backend: 'webgpu',
  run(inputs, attrs, backend) {
    const [p, g, m, v] = inputs as GpuTensor[];
    const a = attrs;
    const n = sizeOf(p!.shape);
    const u = new Uniforms();
    u.add(n);
    const decay = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
    const l2 = a.decoupled ? 0 : a.weightDecay;
    const s = u.addF32(a.beta1, a.beta2, a.eps, a.lr / a.bc1, 1 / Math.sqrt(a.bc2), decay, l2);
    const f = (k: number): string => `bitcast<f32>(u[${s + k}])`;
    const f32 = { dtype: 'float32' as const };
    return backend.runProgram({
      key: 'AdamUpdate',
      source: () => `
${declareBindings(['P', 'G', 'M', 'V'].map((name) => ({ name, ...f32 })), ['PO', 'MO', 'VO'].map((name) => ({ name, ...f32 })))}
${mainLinear(
  'u[0]',
  `  let beta1 = ${f(0)};
  let beta2 = ${f(1)};
  let p = P[idx];
  let g = G[idx] + ${f(6)} * p;
  let m = beta1 * M[idx] + (1.0 - beta1) * g;
  let v = beta2 * V[idx] + (1.0 - beta2) * g * g;
  MO[idx] = m;
  VO[idx] = v;
  PO[idx] = p * ${f(5)} - ${f(3)} * m / (sqrt(v) * ${f(4)} + ${f(2)});`,
)}`,
      inputs: [p!, g!, m!, v!],
      outputs: [0, 1, 2].map(() => ({ dtype: 'float32' as const, shape: p!.shape })),
      uniforms: u.values,
      dispatch: dispatch1D(n),
    });
  },
};
