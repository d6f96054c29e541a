import type { KernelConfig } from '../../../backend.js';
import type { AdamAttrs } from '../../../kernel_names.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';

/**
 * One fused Adam/AdamW step over float32 arrays (torch.optim.Adam/AdamW formulas):
 * returns the new parameter and moments; the inputs are not modified.
 */
export function adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: AdamAttrs): [Float32Array, Float32Array, Float32Array] {
  const n = p.length;
  const po = new Float32Array(n);
  const mo = new Float32Array(n);
  const vo = new Float32Array(n);
  const { beta1, beta2, eps, weightDecay: wd } = a;
  const stepSize = a.lr / a.bc1;
  const invSqrtBc2 = 1 / Math.sqrt(a.bc2);
  const decay = a.decoupled ? 1 - a.lr * wd : 1;
  const l2 = a.decoupled ? 0 : wd;
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    const gi = g[i]! + l2 * pi;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = pi * decay - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
  return [po, mo, vo];
}

/** AdamUpdate(param, grad, m, v) → (param', m', v'); float32, contiguous. */
export const adamUpdateKernel: KernelConfig<CpuBackend, 'AdamUpdate'> = {
  name: 'AdamUpdate',
  backend: 'cpu',
  run([p, g, m, v], attrs, backend) {
    const n = sizeOf(p!.shape);
    const f = (t: typeof p): Float32Array => cpuValues(t!).subarray(0, n);
    const out = adamStep(f(p), f(g), f(m), f(v), attrs);
    return out.map((o) => backend.output('float32', p!.shape, o));
  },
};
