/** Evaluation data the page builds: .npy/.pb user files, seeded sample inputs, MNIST shapes. */
import { writeTensorProto } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { describe, expect, test } from 'vitest';
import { batchSizeFor, imageSampleShape } from '../src/data/mnist_dataset.js';
import { readNpy } from '../src/data/npy.js';
import { SYNTHETIC_DEFAULT_DIM } from '@whittle/eval';
import { sampleDataset } from '../src/data/sample_data.js';
import { datasetFromFiles, datasetFromSourceFiles, readDataFile } from '../src/data/user_data.js';
import type { IoInfo } from '../src/worker/protocol.js';
import { writeNpy } from './support/npy_write.js';
import { writeGrayPng } from './support/png_write.js';

const image: IoInfo = { name: 'input', elemType: 'float32', shape: ['N', 1, 28, 28] };
const file = (name: string, bytes: Uint8Array | Buffer): File => new File([new Uint8Array(bytes)], name);

describe('user data files', () => {
  test('.npy arrays of every supported dtype read back with their shapes', () => {
    const f = readNpy(writeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]));
    expect(f).toMatchObject({ shape: [2, 3], type: 'float32' });
    expect([...f.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readNpy(writeNpy(Float64Array.of(0.5, 1.5), [2])).data).toEqual(Float32Array.of(0.5, 1.5));
    expect(readNpy(writeNpy(BigInt64Array.of(7n, 9n), [2]))).toMatchObject({ type: 'int64', shape: [2] });
    expect(readNpy(writeNpy(Uint8Array.of(1, 2, 3), [3, 1]))).toMatchObject({ type: 'uint8', shape: [3, 1] });
  });

  test('.npy files the reader cannot take are refused with the reason', () => {
    const fortran = writeNpy(Float32Array.of(1, 2), [2]);
    fortran.write("'fortran_order': True ", fortran.indexOf("'fortran_order'"), 'latin1');
    expect(() => readNpy(fortran)).toThrow(/Fortran order/);
    expect(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/not a \.npy file/);
    expect(() => readNpy(writeNpy(Float32Array.of(1, 2, 3, 4), [4]).subarray(0, 70))).toThrow(/truncated/);
  });

  test('files are matched to inputs by name, by input_<i>, or alone; labels.* become labels', async () => {
    const x = await readDataFile(file('anything.npy', writeNpy(new Float32Array(3 * 784), [3, 1, 28, 28])));
    const y = await readDataFile(file('labels.npy', writeNpy(BigInt64Array.of(1n, 2n, 3n), [3])));
    const ds = datasetFromFiles([x, y], [image]);
    expect(ds.inputs['input']!.sampleShape).toEqual([1, 28, 28]);
    expect(Array.from(ds.labels!)).toEqual([1, 2, 3]);
    const two: IoInfo[] = [image, { name: 'mask', elemType: 'bool', shape: ['N', 4] }];
    const pb = await readDataFile(file('input_1.pb', writeTensorProto(tensor(new Uint8Array(12), [3, 4], 'bool', { backend: 'cpu' }))));
    const byName = await readDataFile(file('input.npy', writeNpy(new Float32Array(3 * 784), [3, 784])));
    const ds2 = datasetFromFiles([byName, pb], two);
    expect(ds2.inputs['mask']).toMatchObject({ sampleShape: [4], type: 'bool' });
    expect(() => datasetFromFiles([byName], two)).toThrow(/no data for input\(s\) 'mask'/);
    expect(() => datasetFromFiles([x, byName], two)).toThrow(/'anything' matches no model input/);
    await expect(readDataFile(file('data.csv', new Uint8Array(4)))).rejects.toThrow(/\.npy or \.pb/);
  });
});

describe("other sources, read by @whittle/eval's openData", () => {
  test('a CSV with a label column and JSONL token ids become datasets; text + tokenizer.json become windows', async () => {
    const two: IoInfo = { name: 'x', elemType: 'float32', shape: ['N', 2] };
    const csv = await datasetFromSourceFiles([file('d.csv', Buffer.from('a,b,label\n1,2,0\n3,4,1\n5,6,1\n'))], [two]);
    expect(csv.count).toBe(3);
    expect(Array.from(csv.dataset.inputs['x']!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(csv.dataset.labels!)).toEqual([0, 1, 1]);
    const ids: IoInfo = { name: 'input_ids', elemType: 'int64', shape: ['N', 'seq'] };
    const jl = await datasetFromSourceFiles([file('t.jsonl', Buffer.from('[1,2,3]\n[4,5,6]\n'))], [ids]);
    expect(jl.dataset.inputs['input_ids']).toMatchObject({ sampleShape: [3], type: 'int64' });
    expect(Array.from(jl.dataset.inputs['input_ids']!.data as BigInt64Array, Number)).toEqual([1, 2, 3, 4, 5, 6]);
    const tokenizer = { model: { type: 'WordLevel', vocab: { '[UNK]': 0, '[PAD]': 1, hi: 2, there: 3 }, unk_token: '[UNK]' }, pre_tokenizer: { type: 'Whitespace' } };
    const spec = 'kind: text\npath: c.txt\nlength: 4\nmode: lines\n';
    const txt = await datasetFromSourceFiles([file('c.txt', Buffer.from('hi there\nthere\n')), file('tokenizer.json', Buffer.from(JSON.stringify(tokenizer))), file('spec.yaml', Buffer.from(spec))], [ids, { name: 'attention_mask', elemType: 'int64', shape: ['N', 'seq'] }]);
    expect(txt.count).toBe(2);
    expect(Array.from(txt.dataset.inputs['input_ids']!.data as BigInt64Array, Number)).toEqual([2, 3, 1, 1, 3, 1, 1, 1]);
    expect(Array.from(txt.dataset.inputs['attention_mask']!.data as BigInt64Array, Number)).toEqual([1, 1, 0, 0, 1, 0, 0, 0]);
    await expect(datasetFromSourceFiles([file('c.txt', Buffer.from('hi'))], [ids])).rejects.toThrow(/raw text needs a tokenizer/);
  });
});

describe('a picked folder', () => {
  test('images in class subfolders (<input webkitdirectory> paths) become labeled samples', async () => {
    const inFolder = (path: string, bytes: Buffer): File => {
      const f = file(path.split('/').pop()!, bytes);
      Object.defineProperty(f, 'webkitRelativePath', { value: path });
      return f;
    };
    const px = (v: number) => writeGrayPng(new Uint8Array(28 * 28).fill(v), 28, 28);
    const files = [inFolder('digits/zero/a.png', px(0)), inFolder('digits/one/b.png', px(255)), inFolder('digits/one/c.png', px(51))];
    const { dataset, count } = await datasetFromSourceFiles(files, [image]);
    expect(count).toBe(3);
    // classes sorted by name: one = 0, zero = 1
    expect(Array.from(dataset.labels!).sort()).toEqual([0, 0, 1]);
    const x = dataset.inputs['input']!;
    expect(x.sampleShape).toEqual([1, 28, 28]);
    const means = [0, 1, 2].map((i) => (x.data as Float32Array).subarray(i * 784, (i + 1) * 784).reduce((a, b) => a + b, 0) / 784);
    expect(means.map((m) => Math.round(m * 100) / 100).sort()).toEqual([0, 0.2, 1]);
  });
});

describe('sample and MNIST data', () => {
  test('random samples are seeded, typed and shaped after the inputs', async () => {
    const inputs: IoInfo[] = [image, { name: 'ids', elemType: 'int64', shape: ['N', 5] }];
    const a = (await sampleDataset(inputs, 4, 0)).dataset;
    const b = (await sampleDataset(inputs, 4, 0)).dataset;
    expect(a.inputs['input']!.data).toEqual(b.inputs['input']!.data);
    expect(a.inputs['input']!.data.length).toBe(4 * 784);
    expect(a.inputs['ids']!.data).toBeInstanceOf(BigInt64Array);
    expect(Math.max(...(a.inputs['input']!.data as Float32Array))).toBeLessThan(1);
    expect(Math.min(...(a.inputs['input']!.data as Float32Array))).toBeGreaterThanOrEqual(0);
    const tokens = (await sampleDataset([{ name: 'tokens', elemType: 'int64', shape: ['N', 'seq'] }], 2)).dataset.inputs['tokens']!;
    expect(tokens.sampleShape).toEqual([SYNTHETIC_DEFAULT_DIM]);
    await expect(sampleDataset([{ name: 'tokens', elemType: 'int64', shape: null }], 1)).rejects.toThrow(/no known shape/);
    await expect(sampleDataset([{ name: 's', elemType: 'string', shape: ['N'] }], 1)).rejects.toThrow(/element type string/);
  });

  test('MNIST images take the shape of the model input; batch size follows a fixed batch dim', () => {
    expect(imageSampleShape(image, 784)).toEqual([1, 28, 28]);
    expect(imageSampleShape({ name: 'x', elemType: 'float32', shape: ['N', 784] }, 784)).toEqual([784]);
    expect(imageSampleShape({ name: 'x', elemType: 'float32', shape: ['N', 'C', 'H', 'W'] }, 784)).toEqual([1, 28, 28]);
    expect(imageSampleShape({ name: 'x', elemType: 'float32', shape: ['N', 28, 28] }, 784)).toEqual([28, 28]);
    expect(batchSizeFor([image])).toBe(250);
    expect(batchSizeFor([{ ...image, shape: [1, 1, 28, 28] }])).toBe(1);
  });
});
