/**
 * The last few onnxruntime-web sessions, kept by a fingerprint of the model bytes and the
 * execution provider: the page evaluates the same original again and again (after opening,
 * after each compress, on "Evaluate all"), and creating a session on a 100 MB model costs more
 * than its forward passes on a few samples. Sessions evicted from the cache are released.
 */

/** What the cache needs of a session. */
export interface Releasable {
  release(): Promise<void>;
}

/** Two independent 32-bit multiplicative hashes of every byte, with the length: collisions are not a practical concern. */
export function fingerprint(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : new Uint32Array(bytes.slice(0, bytes.length & ~3).buffer);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b + w, 0x5bd1e995) ^ (b >>> 15);
  }
  for (let i = words.length * 4; i < bytes.length; i++) a = Math.imul(a ^ bytes[i]!, 0x01000193);
  return `${bytes.length}:${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

/** A small LRU of sessions with the time their creation took (reported again on a hit, for estimates). */
export class SessionCache<S extends Releasable> {
  private readonly entries: { key: string; session: S; createMs: number }[] = [];

  constructor(private readonly capacity: number) {}

  /** The cached session for `key`, made most recent, or undefined. */
  get(key: string): { session: S; createMs: number } | undefined {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1);
    this.entries.push(e!);
    return e;
  }

  /** Keep a session; the least recently used one beyond capacity is released. */
  async put(key: string, session: S, createMs: number): Promise<void> {
    this.entries.push({ key, session, createMs });
    while (this.entries.length > this.capacity) await this.entries.shift()!.session.release();
  }
}
