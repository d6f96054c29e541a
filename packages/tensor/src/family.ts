import type { KernelConfig } from './backend.js';
import type { GradientTable } from './autograd/node.js';
import type { KernelName } from './kernel_names.js';
import { registerKernels } from './kernel_registry.js';
import { registerGradients } from './autograd/gradient_registry.js';

/**
 * A family of ops registered together: its cpu and webgpu kernels and the gradients of its
 * differentiable ops. Each `families/*.ts` file exports one.
 */
export interface OpFamily {
  readonly name: string;
  readonly kernels: readonly KernelConfig<never, KernelName>[];
  readonly gradients: GradientTable;
}

export function registerFamily(f: OpFamily): void {
  registerKernels(f.kernels);
  registerGradients(f.gradients);
}
