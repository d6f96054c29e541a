import type { GradFn } from './node.js';

const gradients = new Map<string, GradFn>();

/** Register the gradient of an op (keyed by the op/kernel name). */
export function registerGradient(name: string, fn: GradFn): void {
  gradients.set(name, fn);
}

export function registerGradients(table: Readonly<Record<string, GradFn>>): void {
  for (const [k, v] of Object.entries(table)) gradients.set(k, v);
}

export function getGradient(name: string): GradFn | undefined {
  return gradients.get(name);
}

export function listGradients(): string[] {
  return [...gradients.keys()].sort();
}
