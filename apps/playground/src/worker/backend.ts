import { BackendError, autoSelectBackend, engine, setBackend, type WebGpuBackend } from '@whittle/tensor';
import type { BackendChoice, BackendInfo } from './protocol.js';

let webgpuProblem: string | undefined;

/** Describe the engine's current backend (with the adapter, or why WebGPU is not used). */
export function describeBackend(name = engine().backendName): BackendInfo {
  if (name === 'webgpu') return { name, adapter: (engine().backend('webgpu') as WebGpuBackend).adapterDescription };
  return { name, note: webgpuProblem ?? 'cpu chosen' };
}

/** Why WebGPU cannot start here, or undefined when it can (probed once; the engine caches the backend). */
async function probeWebGpu(): Promise<string | undefined> {
  if (engine().isReady('webgpu')) return undefined;
  try {
    await engine().initBackend('webgpu');
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Choose the backend the way the library does: `autoSelectBackend()` (WebGPU when an adapter
 * exists, else the JS/WASM cpu backend), or the one the user forced — a forced 'webgpu' without
 * an adapter is an error, never a silent fallback.
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  webgpuProblem = await probeWebGpu();
  if (choice === 'auto') return describeBackend(await autoSelectBackend());
  if (choice === 'webgpu' && webgpuProblem) throw new BackendError(`WebGPU was requested but is unavailable: ${webgpuProblem}`);
  await setBackend(choice);
  return describeBackend(choice);
}
