/** The worker's onnxruntime-web session cache: fingerprints and least-recently-used eviction. */
import { describe, expect, test } from 'vitest';
import { SessionCache, fingerprint } from '../src/worker/ort_sessions.js';

describe('fingerprint', () => {
  test('equal bytes agree wherever they sit; one changed byte or length differs', () => {
    const a = Uint8Array.from({ length: 4099 }, (_, i) => (i * 31) % 251);
    const shifted = new Uint8Array(4100);
    shifted.set(a, 1); // not 4-byte aligned
    expect(fingerprint(shifted.subarray(1))).toBe(fingerprint(a));
    const seen = new Set([fingerprint(a), fingerprint(a.subarray(0, 4098))]);
    for (const i of [0, 1, 2047, 4095, 4096, 4098]) {
      const b = a.slice();
      b[i] = b[i]! ^ 1;
      seen.add(fingerprint(b));
    }
    expect(seen.size).toBe(8);
  });
});

describe('SessionCache', () => {
  test('keeps the most recently used, releases what it evicts, reports the first creation time', async () => {
    const released: string[] = [];
    const s = (name: string) => ({ name, release: async () => void released.push(name) });
    const cache = new SessionCache<ReturnType<typeof s>>(2);
    await cache.put('a', s('a'), 10);
    await cache.put('b', s('b'), 20);
    expect(cache.get('a')).toMatchObject({ session: { name: 'a' }, createMs: 10 }); // a is now the most recent
    await cache.put('c', s('c'), 30);
    expect(released).toEqual(['b']);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.session.name).toBe('a');
    expect(cache.get('c')?.createMs).toBe(30);
  });
});
