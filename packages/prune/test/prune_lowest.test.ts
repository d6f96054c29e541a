/**
 * pruneLowest marks exactly the k entries that come first in (score, index) order — the order a
 * comparator sort of positions gives — with ties, negative zeros, index subsets in any order,
 * and NaN scores (ranked highest).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { pruneLowest } from '../src/masks.js';
import { selectKth } from '../src/select.js';

function reference(scores: Float32Array, k: number, indices?: Int32Array): Uint8Array {
  const mask = new Uint8Array(scores.length).fill(1);
  const order = indices ? Array.from(indices) : Array.from({ length: scores.length }, (_, i) => i);
  const key = (i: number): number => (Number.isNaN(scores[i]!) ? Infinity : scores[i]!);
  order.sort((a, b) => key(a) - key(b) || (Number.isNaN(scores[a]!) ? 1 : 0) - (Number.isNaN(scores[b]!) ? 1 : 0) || a - b);
  for (let j = 0; j < Math.min(k, order.length); j++) mask[order[j]!] = 0;
  return mask;
}

describe('pruneLowest', () => {
  const rng = new Rng(7);
  // few distinct values: many ties; ±0 both present
  const scores = Float32Array.from({ length: 5000 }, () => Math.floor(rng.uniform(0, 40)) / 8);
  for (let i = 0; i < scores.length; i += 97) scores[i] = -0;

  it.each([0, 1, 17, 2500, 4999, 5000, 7000])('k = %i over all entries equals the (score, index) order', (k) => {
    const mask = new Uint8Array(scores.length).fill(1);
    pruneLowest(scores, k, mask);
    expect(mask).toEqual(reference(scores, k));
    expect(mask.reduce((a, b) => a + (b ? 0 : 1), 0)).toBe(Math.min(k, scores.length));
  });

  it('within an unordered index subset (a row of a weight) as well', () => {
    const idx = Int32Array.from({ length: 800 }, (_, j) => (j * 37) % 5000).reverse();
    for (const k of [1, 100, 400, 799]) {
      const mask = new Uint8Array(scores.length).fill(1);
      pruneLowest(scores, k, mask, idx);
      expect(mask, `k ${k}`).toEqual(reference(scores, k, idx));
    }
  });

  it('NaN scores are pruned last, lowest index first', () => {
    const s = Float32Array.of(3, NaN, 1, NaN, 2);
    const mask = new Uint8Array(5).fill(1);
    pruneLowest(s, 4, mask);
    expect(Array.from(mask)).toEqual([0, 0, 0, 1, 0]);
    expect(mask).toEqual(reference(s, 4));
  });
});

describe('selectKth', () => {
  it('returns the value at each rank of the sorted array (ties, sorted and reversed runs)', () => {
    const rng = new Rng(3);
    for (const make of [(i: number) => Math.floor(rng.uniform(0, 9)), (i: number) => i, (i: number) => -i, () => 1.5]) {
      const a = Float32Array.from({ length: 257 }, (_, i) => make(i));
      const sorted = Float32Array.from(a).sort();
      for (const k of [0, 1, 100, 128, 255, 256]) expect(selectKth(Float32Array.from(a), k)).toBe(sorted[k]);
    }
  });
});
