import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { bestGapBits, clusterValues, decodeClustered, decodeSparse, encodeSparse, packBits, packNibbles, unpackBits, unpackNibbles } from '../src/cluster.js';

function sparseWeights(n: number, density: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.int(1000) < density * 1000 ? rng.normal() * 0.1 : 0));
}

describe('clustering core', () => {
  it('keeps zeros exactly zero and uses at most k shared values', () => {
    const w = sparseWeights(5000, 0.1, 1);
    const c = clusterValues(w, { k: 16 });
    const d = decodeClustered(c);
    expect(c.codebook.length).toBeLessThanOrEqual(16);
    for (let i = 0; i < w.length; i++) if (w[i] === 0) expect(d[i]).toBe(0);
    expect(new Set(d).size).toBeLessThanOrEqual(16);
    // k-means beats the nearest-of-linear-grid error bound: each value within half the largest gap
    let err = 0;
    let ref = 0;
    for (let i = 0; i < w.length; i++) {
      err += (w[i]! - d[i]!) ** 2;
      ref += w[i]! ** 2;
    }
    // 15 centroids over Gaussian non-zeros: the Lloyd-Max optimum is ~0.011 of the energy
    expect(err / ref).toBeLessThan(0.02);
  });

  it('kmeans++ needs a random source and is deterministic given one', () => {
    const w = sparseWeights(2000, 0.5, 2);
    expect(() => clusterValues(w, { k: 8, init: 'kmeans++' })).toThrow(/random/);
    const draw = (s: number): (() => number) => {
      const r = new Rng(s);
      return () => r.int(1 << 30) / (1 << 30);
    };
    const a = clusterValues(w, { k: 8, init: 'kmeans++', random: draw(3) });
    const b = clusterValues(w, { k: 8, init: 'kmeans++', random: draw(3) });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    expect(() => clusterValues(w, { k: 1 })).toThrow(/k must be/);
  });

  it('nibble and bit packing and relative-index encoding round-trip exactly', () => {
    const w = sparseWeights(3001, 0.08, 4);
    const c = clusterValues(w, { k: 8 });
    expect(Array.from(unpackNibbles(packNibbles(c.codes), c.codes.length))).toEqual(Array.from(c.codes));
    for (const bits of [1, 3, 4, 5, 7, 8]) {
      const v = Uint8Array.from({ length: 37 }, (_, i) => (i * 2654435761) % 2 ** bits);
      const p = packBits(v, bits);
      expect(p.length).toBe(Math.ceil(37 / 8) * bits);
      expect(Array.from(unpackBits(p, bits, 37))).toEqual(Array.from(v));
    }
    // the documented layout: 8 three-bit values 1..8 mod 8 -> 001 010 011 100 101 110 111 000
    expect(Array.from(packBits([1, 2, 3, 4, 5, 6, 7, 0], 3))).toEqual([0b00101001, 0b11001011, 0b10111000]);
    expect(() => packBits([8], 3)).toThrow(/does not fit/);
    for (const gapBits of [1, 3, 4, 5, 8]) {
      const e = encodeSparse(c.codes, gapBits);
      expect(Array.from(decodeSparse(e, c.codes.length))).toEqual(Array.from(c.codes));
      expect(e.codes.length).toBe(c.codes.filter((q) => q !== 0).length);
    }
    // at 8 % density the best width is near the entropy-optimal 4-5 bits
    expect([4, 5]).toContain(bestGapBits(c.codes));
  });
});
