import type { KernelConfig } from './backend.js';
import type { GradFn } from './autograd/node.js';
import { registerKernels } from './kernel_registry.js';
import { registerGradients } from './autograd/gradient_registry.js';

/**
 * A family of ops registered together: its cpu and webgpu kernels and the gradients of its
 * differentiable ops. Each `families/*.ts` file exports one.
 */
export interface OpFamily {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly kernels: readonly KernelConfig<any>[];
  readonly gradients: Readonly<Record<string, GradFn>>;
}

export function registerFamily(f: OpFamily): void {
  registerKernels(f.kernels);
  registerGradients(f.gradients);
}
