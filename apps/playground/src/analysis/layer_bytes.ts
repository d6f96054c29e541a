import { gzipSize } from '@whittle/eval';
import type { Graph } from '@whittle/graph';

/** Little-endian bytes of an initializer as stored in the file (cpu tensors and raw tensors). */
function storedBytes(g: Graph, name: string): Uint8Array {
  const raw = g.rawInitializers.get(name);
  if (raw) return raw.rawData ?? new Uint8Array(0);
  const data = g.initializers.get(name)!.dataSync();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** gzip size (level 9) of the concatenated weight bytes of one layer. */
export function layerGzipBytes(g: Graph, initializers: readonly string[]): number {
  const parts = initializers.map((n) => storedBytes(g, n));
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.length ? gzipSize(all) : 0;
}
