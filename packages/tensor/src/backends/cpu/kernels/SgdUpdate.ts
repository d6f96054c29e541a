import type { KernelConfig } from '../../../backend.js';
import type { SgdAttrs } from '../../../kernel_names.js';
import { sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';

/**
 * One fused SGD step over float32 arrays (torch.optim.SGD): g = grad + wd·p; with momentum
 * buf = first ? g : μ·buf + (1 − dampening)·g and g = nesterov ? g + μ·buf : buf; p − lr·g.
 * `buf` is the momentum buffer (null without momentum or on the first step). Returns [param']
 * without momentum, else [param', buf'].
 */
export function sgdStep(p: Float32Array, grad: Float32Array, buf: Float32Array | null, a: SgdAttrs): Float32Array[] {
  const n = p.length;
  const po = new Float32Array(n);
  const { lr, momentum: mu, dampening, weightDecay: wd, nesterov, first } = a;
  if (mu === 0) {
    for (let i = 0; i < n; i++) po[i] = p[i]! - lr * (grad[i]! + wd * p[i]!);
    return [po];
  }
  const bo = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    const g = grad[i]! + wd * pi;
    const b = first || !buf ? g : mu * buf[i]! + (1 - dampening) * g;
    bo[i] = b;
    po[i] = pi - lr * (nesterov ? g + mu * b : b);
  }
  return [po, bo];
}

/** SgdUpdate(param, grad[, buf]) → (param'[, buf']); float32, contiguous; no buf on the first momentum step. */
export const sgdUpdateKernel: KernelConfig<CpuBackend, 'SgdUpdate'> = {
  name: 'SgdUpdate',
  backend: 'cpu',
  run([p, g, b], attrs, backend) {
    const n = sizeOf(p!.shape);
    const f = (t: typeof p): Float32Array => cpuValues(t!).subarray(0, n);
    const out = sgdStep(f(p), f(g), b ? f(b) : null, attrs);
    return out.map((o) => backend.output('float32', p!.shape, o));
  },
};
