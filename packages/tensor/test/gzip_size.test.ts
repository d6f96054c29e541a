import { gunzipSync, gzipSync as zlibGzip } from 'node:zlib';
import { gzipSync as fflateGzip } from 'fflate';
import { describe, expect, it } from 'vitest';
import { GZIP_LEVEL, Rng, gzipSize } from '../src/index.js';

describe('gzipSize', () => {
  it('is the length of a complete gzip stream at level 6 (zlib inflates it back; within 15 % of zlib at the same level: the two deflaters differ a little on small inputs)', () => {
    expect(GZIP_LEVEL).toBe(6);
    const rng = new Rng(3);
    // pruned-like bytes: runs of zeros between random values
    const b = Uint8Array.from({ length: 20000 }, (_, i) => (i % 3 ? 0 : rng.int(256)));
    const z = fflateGzip(b, { level: 6 });
    expect(Buffer.from(gunzipSync(z)).equals(Buffer.from(b))).toBe(true);
    expect(gzipSize(b)).toBe(z.length);
    expect(Math.abs(gzipSize(b) / zlibGzip(b, { level: 6 }).length - 1)).toBeLessThan(0.15);
    // compressible input compresses, incompressible input does not
    expect(gzipSize(new Uint8Array(10000))).toBeLessThan(100);
    const noise = Uint8Array.from({ length: 10000 }, () => rng.int(256));
    expect(gzipSize(noise)).toBeGreaterThan(10000);
  });
});
