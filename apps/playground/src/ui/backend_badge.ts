import type { WorkerClient } from '../app/worker_client.js';
import { byId } from './dom.js';

/** Ask the worker which backend 'auto' picks here and show it in the header. */
export async function showBackend(client: WorkerClient): Promise<void> {
  const badge = byId('backend-badge');
  try {
    const b = await client.run({ kind: 'probe', backend: 'auto' });
    badge.dataset['backend'] = b.name;
    badge.textContent = b.name === 'webgpu' ? `compute: WebGPU (${b.adapter})` : `compute: JS/WASM cpu (WebGPU unavailable: ${b.note ?? 'unknown reason'})`;
    badge.title = badge.textContent;
  } catch (e) {
    badge.textContent = `compute backend unknown: ${(e as Error).message}`;
  }
}
