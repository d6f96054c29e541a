import type { BackendName } from './backend.js';
import { engine } from './engine.js';

/** Make `name` the backend new tensors are created on (throws when it is unavailable). */
export async function setBackend(name: BackendName): Promise<void> {
  await engine().setBackend(name);
}

/** The backend new tensors are created on. */
export function getBackendName(): BackendName {
  return engine().backendName;
}

/** Pick webgpu when an adapter exists, else cpu. Returns the choice. */
export async function autoSelectBackend(): Promise<BackendName> {
  return engine().autoSelectBackend();
}

/** Run `fn` without recording gradients. */
export function noGrad<T>(fn: () => T): T {
  return engine().noGrad(fn);
}
