import type { Store } from '../app/state.js';
import { byId } from './dom.js';
import { formatBytes } from './format.js';

/** Chromium's non-standard heap numbers, when the browser has them. */
type HeapInfo = { usedJSHeapSize: number; jsHeapSizeLimit: number };

/** Bytes the page holds for models: the original and every variant (shared buffers counted once). */
export function heldModelBytes(store: Store): number {
  const seen = new Set<ArrayBufferLike>();
  let n = 0;
  for (const v of store.state.variants) {
    if (seen.has(v.bytes.buffer)) continue;
    seen.add(v.bytes.buffer);
    n += v.bytes.byteLength;
  }
  return n;
}

/**
 * The header's memory line: model bytes held by the page and, in Chromium, the page's JS heap
 * (the worker's heap is its own and not counted there). Refreshed on changes and every 2 s.
 */
export function mountMemory(store: Store): void {
  const el = byId('memory');
  const show = (): void => {
    const held = heldModelBytes(store);
    const heap = (performance as Performance & { memory?: HeapInfo }).memory;
    el.dataset['modelBytes'] = String(held);
    el.textContent = `memory: models ${formatBytes(held)} (${store.state.variants.length} variant${store.state.variants.length === 1 ? '' : 's'})${heap ? ` · page heap ${formatBytes(heap.usedJSHeapSize)} of ${formatBytes(heap.jsHeapSizeLimit)}` : ''}`;
  };
  store.on('variants', show);
  store.on('busy', show);
  setInterval(show, 2000);
  show();
}
