import type { BackendName, KernelConfig } from './backend.js';
import { BackendError } from './errors.js';

const kernels = new Map<string, KernelConfig>();

const key = (backend: BackendName, name: string): string => `${backend}/${name}`;

/** Register a kernel; a second registration of the same (backend, name) replaces the first. */
export function registerKernel(config: KernelConfig): void {
  kernels.set(key(config.backend, config.name), config);
}

export function registerKernels(configs: readonly KernelConfig[]): void {
  for (const c of configs) registerKernel(c);
}

export function getKernel(backend: BackendName, name: string): KernelConfig {
  const k = kernels.get(key(backend, name));
  if (!k) throw new BackendError(`no ${backend} kernel registered for op ${name}`);
  return k;
}

export function hasKernel(backend: BackendName, name: string): boolean {
  return kernels.has(key(backend, name));
}

/** Names of all kernels registered for a backend (sorted). */
export function listKernels(backend: BackendName): string[] {
  return [...kernels.values()].filter((k) => k.backend === backend).map((k) => k.name).sort();
}
