import type { Graph } from '@whittle/graph';
import { measureGzip } from './gzip.js';

/** Little-endian bytes of an initializer as stored in the file (cpu tensors and raw tensors). */
function storedBytes(g: Graph, name: string): Uint8Array {
  const raw = g.rawInitializers.get(name);
  if (raw) return raw.rawData ?? new Uint8Array(0);
  const data = g.initializers.get(name)!.dataSync();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** gzip size of the concatenated weight bytes of one layer (method chosen by the model's size, see {@link measureGzip}). */
export async function layerGzipBytes(g: Graph, initializers: readonly string[], modelBytes: number): Promise<number> {
  const parts = initializers.map((n) => storedBytes(g, n));
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.length ? (await measureGzip(all, modelBytes)).bytes : 0;
}
