import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataError, type DataArray, type ModelInputSpec, batchesOf, encodeNpy, memoryFiles, openData, trainingDataFrom } from '../src/index.js';

const npy = (data: DataArray['data'], shape: number[], dtype: DataArray['dtype']): Uint8Array => encodeNpy({ data, shape, dtype });
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function drain(path: string, files: ReturnType<typeof memoryFiles>, inputs: ModelInputSpec[]): Promise<void> {
  const { source } = await openData(path, { files, inputs });
  for await (const _ of batchesOf(source, { inputs })) void _;
}

async function failure(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(DataError);
  return e as DataError;
}

const img: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 3, 4, 4] }];

describe('data errors name the file, the sample and the mismatch', () => {
  it('shape', async () => {
    const files = memoryFiles({ 'a.npy': npy(new Float32Array(2 * 3 * 4 * 5), [2, 3, 4, 5], 'float32') });
    const e = await failure(drain('a.npy', files, img));
    expect(e.message).toBe("a.npy, sample 0: input 'x' takes shape [N, 3, 4, 4], the sample gives [1, 3, 4, 5] (axis 3: 5 instead of 4)");
    expect(e.file).toBe('a.npy');
    expect(e.sample).toBe(0);
  });

  it('rank', async () => {
    const files = memoryFiles({ 'a.npy': npy(new Float32Array(6), [2, 3], 'float32') });
    const e = await failure(drain('a.npy', files, img));
    expect(e.message).toMatch(/^a\.npy, sample 0: input 'x' takes rank 4 \[N, 3, 4, 4\], the sample has shape \[3\]/);
  });

  it('dtype: floats for an integer input', async () => {
    const files = memoryFiles({ 'ids.npy': npy(new Float32Array([1.5, 2]), [1, 2], 'float32') });
    const e = await failure(drain('ids.npy', files, [{ name: 'ids', elemType: 'int64', shape: ['b', 's'] }]));
    expect(e.message).toBe("ids.npy, sample 0: input 'ids' takes int64, the data holds float32; write the data as int64");
  });

  it('missing input and unmatched arrays of an .npz', async () => {
    const two: ModelInputSpec[] = [{ name: 'a', elemType: 'float32', shape: ['N', 2] }, { name: 'b', elemType: 'float32', shape: ['N', 2] }];
    const missing = memoryFiles({ 'd.npz': zipSync({ 'a.npy': npy(new Float32Array(4), [2, 2], 'float32') }) });
    expect((await failure(drain('d.npz', missing, two))).message).toBe("d.npz: no data for model input(s) 'b'; the data holds 'a'");
    const extra = memoryFiles({ 'd.npz': zipSync({ 'a.npy': npy(new Float32Array(4), [2, 2], 'float32'), 'b.npy': npy(new Float32Array(4), [2, 2], 'float32'), 'c.npy': npy(new Float32Array(4), [2, 2], 'float32') }) });
    expect((await failure(drain('d.npz', extra, two))).message).toMatch(/^d\.npz: array\(s\) 'c' match no model input \(inputs: a, b\)/);
    const mnum = memoryFiles({ 'd.npz': zipSync({ 'a.npy': npy(new Float32Array(4), [2, 2], 'float32'), 'b.npy': npy(new Float32Array(6), [3, 2], 'float32') }) });
    expect((await failure(drain('d.npz', mnum, two))).message).toBe("d.npz:b: input 'b' has 3 sample(s), input 'a' has 2; every array needs the same first dimension");
  });

  it('label count', async () => {
    const files = memoryFiles({
      'd/x.npy': npy(new Float32Array(3 * 2), [3, 2], 'float32'),
      'd/labels.npy': npy(Int32Array.from([0, 1]), [2], 'int32'),
    });
    const e = await failure(drain('d', files, [{ name: 'x', elemType: 'float32', shape: ['N', 2] }]));
    expect(e.message).toBe('d/labels.npy: 2 label(s) for 3 sample(s); give one label per sample');
  });

  it('truncated .npy, not an image, a bad CSV cell, bad JSON, no labels for training', async () => {
    const full = npy(new Float32Array(8), [2, 4], 'float32');
    const files = memoryFiles({
      't.npy': full.subarray(0, full.length - 4),
      'imgs/a.png': text('not a png at all'),
      't.csv': text('a,b\n1,2\n3,x\n'),
      't.jsonl': text('[1,2]\n[3,\n'),
    });
    const flat: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 4] }];
    expect((await failure(drain('t.npy', files, flat))).message).toBe('t.npy: .npy data is truncated: shape [2, 4] needs 160 bytes, the file has 156');
    expect((await failure(drain('imgs', files, img))).message).toBe('imgs/a.png: not a PNG or JPEG image (by its first bytes); convert it to PNG or JPEG');
    expect((await failure(drain('t.csv', files, [{ name: 'x', elemType: 'float32', shape: ['N', 2] }]))).message).toBe("t.csv, sample 1: line 3, column 'b': 'x' is not a number");
    const e = await failure(drain('t.jsonl', files, [{ name: 'ids', elemType: 'int64', shape: ['b', 's'] }]));
    expect(e.message).toMatch(/^t\.jsonl, sample 1: line 2 is not JSON/);
    const { source } = await openData('t.csv', { files, inputs: flat });
    expect((await failure(trainingDataFrom(source, { inputs: flat }))).message).toMatch(/^training needs labels; 2 row\(s\) × 2 feature\(s\) from t\.csv has none/);
  });

  it('a path whose kind cannot be told, and an unknown data-spec key', async () => {
    const files = memoryFiles({ 'x.bin': new Uint8Array(4), 's.yaml': text('kind: npy\npath: x.npy\nbatch: 3\n') });
    expect((await failure(openData('x.bin', { files, inputs: [] }))).message).toMatch(/^x\.bin: cannot tell what 'x\.bin' holds from its name/);
    expect((await failure(openData('s.yaml', { files, inputs: [] }))).message).toMatch(/^s\.yaml: unknown key\(s\) 'batch'/);
  });
});
