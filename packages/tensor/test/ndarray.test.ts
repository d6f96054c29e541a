import { describe, expect, it } from 'vitest';
import ndarray from 'ndarray';
import { ArgumentError, Rng, fromNdarray, toNdarray } from '@whittle/tensor';

function randomFloats(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe('ndarray interop', () => {
  it('takes a contiguous offset view (.lo/.hi on the first axis) as is; the tensor owns its copy', async () => {
    const data = randomFloats(4 * 3 * 2, 1);
    const a = ndarray(data, [4, 3, 2]).lo(1, 0, 0).hi(2, 3, 2); // rows 1..2: contiguous, offset 6
    const t = fromNdarray(a);
    expect(t.shape).toEqual([2, 3, 2]);
    expect(t.dtype).toBe('float32');
    const want = Array.from(data.subarray(6, 18));
    data.fill(0); // the backend uploaded its own copy
    expect(Array.from(t.dataSync() as Float32Array)).toEqual(want);
  });

  it('copies transposed and stepped views (negative steps too)', async () => {
    const data = randomFloats(5 * 4, 2);
    const base = ndarray(data, [5, 4]);
    const views = [base.transpose(1, 0), base.step(2, -1), base.hi(5, 3).lo(1, 1)];
    for (const v of views) {
      const t = fromNdarray(v);
      expect(t.shape).toEqual(v.shape);
      const want: number[] = [];
      for (let i = 0; i < v.shape[0]!; i++) for (let j = 0; j < v.shape[1]!; j++) want.push(v.get(i, j));
      expect(Array.from(await t.data() as Float32Array)).toEqual(want);
    }
  });

  it('keeps the typed array dtype (int32, uint8, float64)', async () => {
    expect(fromNdarray(ndarray(new Int32Array([1, -2, 3, 4]), [2, 2])).dtype).toBe('int32');
    expect(fromNdarray(ndarray(new Uint8Array([1, 2, 255]), [3])).dtype).toBe('uint8');
    const f64 = fromNdarray(ndarray(new Float64Array([0.1, 0.2]), [2]));
    expect(f64.dtype).toBe('float64');
    expect(Array.from(f64.dataSync() as Float64Array)).toEqual([0.1, 0.2]);
  });

  it('returns a tensor as an ndarray of the same shape and elements', () => {
    const data = randomFloats(2 * 3, 3);
    const back = toNdarray(fromNdarray(ndarray(data, [2, 3]).transpose(1, 0)));
    expect(back.shape).toEqual([3, 2]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(back.get(i, j)).toBe(data[j * 3 + i]);
  });

  it('rejects an ndarray over a plain array with the fix', () => {
    expect(() => fromNdarray(ndarray([1, 2, 3], [3]))).toThrow(ArgumentError);
    expect(() => fromNdarray(ndarray([1, 2, 3], [3]))).toThrow(/typed array/);
  });
});
