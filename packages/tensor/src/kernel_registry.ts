import type { Backend, BackendName, KernelConfig } from './backend.js';
import { BackendError, RegistrationError } from './errors.js';
import type { KernelName } from './kernel_names.js';

// Stored with the name erased; registerKernel only accepts a config whose run() reads the
// attributes of its own name, so getKernel's narrowing back to that name is sound.
const kernels = new Map<string, KernelConfig<Backend, KernelName>>();

const key = (backend: BackendName, name: string): string => `${backend}/${name}`;

/**
 * Register a kernel. A second registration of the same (backend, name) throws a
 * `RegistrationError` naming it (two families claiming one op is a bug, not an override).
 */
export function registerKernel<B extends Backend, N extends KernelName>(config: KernelConfig<B, N>): void {
  const k = key(config.backend, config.name);
  if (kernels.has(k)) throw new RegistrationError(`kernel ${config.name} is already registered for backend ${config.backend}`);
  kernels.set(k, config);
}

export function registerKernels(configs: readonly KernelConfig<never, KernelName>[]): void {
  for (const c of configs) registerKernel(c);
}

export function getKernel<N extends KernelName>(backend: BackendName, name: N): KernelConfig<Backend, N> {
  const k = kernels.get(key(backend, name));
  if (!k) throw new BackendError(`no ${backend} kernel registered for op ${name}`);
  return k as KernelConfig<Backend, N>;
}

export function hasKernel(backend: BackendName, name: string): boolean {
  return kernels.has(key(backend, name));
}

/** Names of all kernels registered for a backend (sorted). */
export function listKernels(backend: BackendName): KernelName[] {
  return [...kernels.values()].filter((k) => k.backend === backend).map((k) => k.name).sort();
}
