import { RegistrationError } from '../errors.js';
import type { OpName } from '../kernel_names.js';
import type { GradFn, GradientTable } from './node.js';

// Stored with the name erased (GradFn<never> accepts every GradFn<N>); registerGradient only
// pairs a gradient with its own name, so getGradient's narrowing back is sound.
const gradients = new Map<string, GradFn<never>>();

/**
 * Register the gradient of an op (keyed by the op/kernel name). A second registration of a name
 * throws a `RegistrationError` naming it.
 */
export function registerGradient<N extends OpName>(name: N, fn: GradFn<N>): void {
  if (gradients.has(name)) throw new RegistrationError(`gradient of ${name} is already registered`);
  gradients.set(name, fn);
}

export function registerGradients(table: GradientTable): void {
  for (const [name, fn] of Object.entries(table)) if (fn) registerGradientErased(name, fn);
}

function registerGradientErased(name: string, fn: GradFn<never>): void {
  if (gradients.has(name)) throw new RegistrationError(`gradient of ${name} is already registered`);
  gradients.set(name, fn);
}

export function getGradient<N extends OpName>(name: N): GradFn<N> | undefined {
  return gradients.get(name) as GradFn<N> | undefined;
}

export function listGradients(): OpName[] {
  return [...gradients.keys()].sort() as OpName[];
}
