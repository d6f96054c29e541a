import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { clusterValues, decodeClustered, decodeSparse, encodeSparse, packNibbles, unpackNibbles } from '../src/cluster.js';

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
    expect(err / ref).toBeLessThan(0.01);
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

  it('nibble packing and relative-index encoding round-trip exactly', () => {
    const w = sparseWeights(3001, 0.08, 4);
    const c = clusterValues(w, { k: 8 });
    expect(Array.from(unpackNibbles(packNibbles(c.codes), c.codes.length))).toEqual(Array.from(c.codes));
    for (const gapBits of [4, 5]) {
      const e = encodeSparse(c.codes, gapBits);
      expect(Array.from(decodeSparse(e, gapBits, c.codes.length))).toEqual(Array.from(c.codes));
    }
    expect(() => encodeSparse(Uint8Array.from([0, 40]), 4)).toThrow(/does not fit/);
  });
});
