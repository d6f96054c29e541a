import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { writeTensorProto } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import {
  type DataArray, type ModelInputSpec, batchesOf, calibrationFrom, encodeNpy, memoryFiles, openData, readNpy, syntheticSource, trainingDataFrom,
} from '../src/index.js';
import { nodeDataFiles } from '../src/node.js';

const files = nodeDataFiles;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'whittle-data-'));
const f32 = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));
const arr = (data: DataArray['data'], shape: number[], dtype: DataArray['dtype']): DataArray => ({ data, shape, dtype });

async function collect(it: AsyncIterable<{ feeds: Record<string, { shape: readonly number[]; dataSync(): unknown }>; labels?: Int32Array | undefined }>) {
  const out: { feeds: Record<string, { shape: number[]; data: number[] }>; labels: number[] | undefined }[] = [];
  for await (const b of it) {
    const feeds: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [k, t] of Object.entries(b.feeds)) feeds[k] = { shape: [...t.shape], data: Array.from(t.dataSync() as ArrayLike<number | bigint>, Number) };
    out.push({ feeds, labels: b.labels ? [...b.labels] : undefined });
  }
  return out;
}

describe('.npy', () => {
  it('round-trips float32/int64 and reads float64 as float32', () => {
    const a = readNpy(encodeNpy(arr(f32(6, (i) => i / 3), [2, 3], 'float32')));
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(f32(6, (i) => i / 3)));
    // a float64 file written by hand ('<f8')
    const head = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    const h = new TextEncoder().encode(head.padEnd(128 - 11) + '\n');
    const bytes = new Uint8Array(10 + h.length + 24);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, h.length, true);
    bytes.set(h, 10);
    new Float64Array(bytes.buffer, 10 + h.length, 3).set([0.5, -1.25, 1e10]);
    const d = readNpy(bytes);
    expect(d.dtype).toBe('float32');
    expect(Array.from(d.data as Float32Array)).toEqual([0.5, -1.25, Math.fround(1e10)]);
  });

  it('a .npy calibrates a single-input model batch by batch; every iteration starts over', async () => {
    const dir = tmp();
    const x = f32(10 * 4, (i) => Math.sin(i));
    writeFileSync(join(dir, 'x.npy'), encodeNpy(arr(x, [10, 4], 'float32')));
    const inputs: ModelInputSpec[] = [{ name: 'in', elemType: 'float32', shape: ['N', 4] }];
    const { source } = await openData(join(dir, 'x.npy'), { files, inputs });
    const cal = calibrationFrom(source, { inputs, batchSize: 4 });
    for (let pass = 0; pass < 2; pass++) {
      const shapes: number[][] = [];
      const values: number[] = [];
      for await (const feeds of cal) {
        shapes.push([...feeds.in!.shape]);
        values.push(...(feeds.in!.dataSync() as Float32Array));
      }
      expect(shapes).toEqual([[4, 4], [4, 4], [2, 4]]);
      expect(values).toEqual(Array.from(x));
    }
  });

  it('int labels make training data for the training passes', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.npy'), encodeNpy(arr(f32(5 * 2, (i) => i), [5, 1, 2], 'float32')));
    writeFileSync(join(dir, 'labels.npy'), encodeNpy(arr(BigInt64Array.from([0n, 1n, 1n, 0n, 2n]), [5], 'int64')));
    const inputs: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 1, 2] }];
    const { spec, source } = await openData(dir, { files, inputs });
    expect(spec.kind).toBe('npy-folder');
    const t = await trainingDataFrom(source, { inputs });
    expect(t.sampleShape).toEqual([1, 2]);
    expect(Array.from(t.x!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(t.labels!)).toEqual([0, 1, 1, 0, 2]);
    expect(t.inputName).toBe('x');
  });
});

describe('.npz with two inputs', () => {
  it('matches arrays to inputs by name, converts int32 ids to the int64 input, reads labels', async () => {
    const dir = tmp();
    const ids = Int32Array.from({ length: 3 * 5 }, (_, i) => i % 7);
    const mask = f32(3 * 5, (i) => (i % 2));
    writeFileSync(join(dir, 'd.npz'), zipSync({
      'input_ids.npy': encodeNpy(arr(ids, [3, 5], 'int32')),
      'mask.npy': encodeNpy(arr(mask, [3, 5], 'float32')),
      'labels.npy': encodeNpy(arr(Int32Array.from([2, 0, 1]), [3], 'int32')),
    }));
    const inputs: ModelInputSpec[] = [{ name: 'input_ids', elemType: 'int64', shape: ['b', 's'] }, { name: 'mask', elemType: 'float32', shape: ['b', 's'] }];
    const { source } = await openData(join(dir, 'd.npz'), { files, inputs });
    expect(source.hasLabels).toBe(true);
    const [b, ...rest] = await collect(batchesOf(source, { inputs, batchSize: 8 }));
    expect(rest).toEqual([]);
    expect(b!.feeds.input_ids).toEqual({ shape: [3, 5], data: Array.from(ids) });
    expect(b!.feeds.mask).toEqual({ shape: [3, 5], data: Array.from(mask) });
    expect(b!.labels).toEqual([2, 0, 1]);
    let dtype = '';
    for await (const x of batchesOf(source, { inputs })) dtype = x.feeds.input_ids!.dtype;
    expect(dtype).toBe('int64');
  });
});

describe('ONNX test-data folder', () => {
  it('input_K.pb feed the K-th input as complete feeds; output_K.pb are targets', async () => {
    const dir = tmp();
    for (let s = 0; s < 2; s++) {
      const d = join(dir, `test_data_set_${s}`);
      mkdirSync(d);
      writeFileSync(join(d, 'input_0.pb'), writeTensorProto(tensor(f32(6, (i) => i + 10 * s), [1, 2, 3], 'float32', { backend: 'cpu' })));
      writeFileSync(join(d, 'input_1.pb'), writeTensorProto(tensor(BigInt64Array.of(16000n), [], 'int64', { backend: 'cpu' })));
      writeFileSync(join(d, 'output_0.pb'), writeTensorProto(tensor(f32(2, (i) => -i - s), [1, 2], 'float32', { backend: 'cpu' }), 'y'));
    }
    const inputs: ModelInputSpec[] = [{ name: 'audio', elemType: 'float32', shape: [1, 2, 3] }, { name: 'sr', elemType: 'int64', shape: [] }];
    const { spec, source } = await openData(dir, { files, inputs });
    expect(spec.kind).toBe('onnx-test-data');
    const seen: { audio: number[]; sr: number[]; srShape: number[]; y: number[] }[] = [];
    for await (const b of batchesOf(source, { inputs })) {
      seen.push({ audio: [...(b.feeds.audio!.dataSync() as Float32Array)], sr: Array.from(b.feeds.sr!.dataSync() as BigInt64Array, Number), srShape: [...b.feeds.sr!.shape], y: [...(b.targets!.output_0!.dataSync() as Float32Array)] });
    }
    expect(seen).toEqual([
      { audio: [0, 1, 2, 3, 4, 5], sr: [16000], srShape: [], y: [-0, -1] },
      { audio: [10, 11, 12, 13, 14, 15], sr: [16000], srShape: [], y: [-1, -2] },
    ]);
  });
});

describe('image folders', () => {
  function pixels(w: number, h: number, seed: number): Uint8Array {
    return Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + seed * 11) % 256);
  }

  it('PNG class folders: labels from folder names, mean/std, BGR and NHWC as asked', async () => {
    const dir = tmp();
    const w = 4;
    const h = 3;
    const imgs = { cat: [pixels(w, h, 1)], dog: [pixels(w, h, 2), pixels(w, h, 3)] };
    for (const [cls, list] of Object.entries(imgs)) {
      mkdirSync(join(dir, cls));
      list.forEach((p, i) => writeFileSync(join(dir, cls, `${i}.png`), encodePng({ width: w, height: h, data: p, channels: 3, depth: 8 })));
    }
    const mean = [0.5, 0.4, 0.3];
    const std = [0.2, 0.25, 0.5];
    const inputs: ModelInputSpec[] = [{ name: 'image', elemType: 'float32', shape: ['N', 3, h, w] }];
    const { spec, source } = await openData(dir, { files, inputs });
    expect(spec.kind).toBe('images');
    const batches = await collect(batchesOf(source, { inputs, batchSize: 8 }));
    expect(batches.length).toBe(1);
    expect(batches[0]!.labels).toEqual([0, 1, 1]);
    expect(batches[0]!.feeds.image!.shape).toEqual([3, 3, h, w]);
    // NCHW reference from the raw pixels (no preprocessing given: values / 255)
    const ref = [imgs.cat[0]!, imgs.dog[0]!, imgs.dog[1]!].flatMap((p) => {
      const out: number[] = [];
      for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(p[(y * w + x) * 3 + c]! / 255);
      return out;
    });
    batches[0]!.feeds.image!.data.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 6));

    // a spec: BGR, NHWC, mean/std, written as YAML next to the folder
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}.yaml`), `kind: images\npath: ${dir.split('/').pop()}\npreprocess: { channels: bgr, layout: nhwc, mean: [${mean}], std: [${std}] }\n`);
    const nhwc: ModelInputSpec[] = [{ name: 'image', elemType: 'float32', shape: ['N', h, w, 3] }];
    const viaSpec = await openData(join(dir, '..', `${dir.split('/').pop()}.yaml`), { files, inputs: nhwc });
    const b2 = await collect(batchesOf(viaSpec.source, { inputs: nhwc }));
    const p = imgs.cat[0]!;
    const expected: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) expected.push((p[(y * w + x) * 3 + (2 - c)]! / 255 - mean[c]!) / std[c]!);
    expect(b2[0]!.feeds.image!.shape).toEqual([3, h, w, 3]);
    b2[0]!.feeds.image!.data.slice(0, h * w * 3).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    // each source says the preprocessing it applies (the CLI prints it)
    expect(source.description).toContain(`preprocessing: resize ${h}×${w}, scale 1/255, mean 0, std 1, rgb nchw`);
    expect(viaSpec.source.description).toContain(`preprocessing: resize ${h}×${w}, scale 1/255, mean ${mean.join(',')}, std ${std.join(',')}, bgr nhwc`);
  });

  it('folders named by numbers are those class indices; hidden folders are not classes; other formats are named', async () => {
    const dir = tmp();
    for (const cls of ['7', '2', '10', '.ipynb_checkpoints']) {
      mkdirSync(join(dir, cls));
      writeFileSync(join(dir, cls, 'a.png'), encodePng({ width: 2, height: 2, data: pixels(2, 2, 1), channels: 3, depth: 8 }));
    }
    writeFileSync(join(dir, '2', 'b.webp'), 'not decoded');
    const inputs: ModelInputSpec[] = [{ name: 'image', elemType: 'float32', shape: ['N', 3, 2, 2] }];
    const { source } = await openData(dir, { files, inputs });
    const batches = await collect(batchesOf(source, { inputs, batchSize: 8 }));
    // listed by name (10, 2, 7), labelled by number; the checkpoint folder's image is not read
    expect(batches[0]!.labels).toEqual([10, 2, 7]);
    expect(source.description).toContain('3 image(s)');
    expect(source.description).toContain('in 3 classes named by index (2, 7, 10)');
    expect(source.description).toContain('1 image(s) of other formats not read, only PNG and JPEG (2/b.webp)');
    // names given in a spec map the folders instead
    writeFileSync(join(dir, 'spec.yaml'), "kind: images\npath: .\nclasses: ['10', '2', '7']\n");
    const named = await openData(join(dir, 'spec.yaml'), { files, inputs });
    expect((await collect(batchesOf(named.source, { inputs, batchSize: 8 })))[0]!.labels).toEqual([0, 1, 2]);
    // a comma-separated string is not a list of classes
    writeFileSync(join(dir, 'bad.yaml'), "kind: images\npath: .\nclasses: '2,7,10'\n");
    await expect(openData(join(dir, 'bad.yaml'), { files, inputs })).rejects.toThrow(/classes must be a list of class names/);
    writeFileSync(join(dir, 'typo.yaml'), 'kind: images\npath: .\npreprocess: { resise: 4 }\n');
    await expect(openData(join(dir, 'typo.yaml'), { files, inputs })).rejects.toThrow(/unknown preprocess key\(s\) 'resise'/);
  });

  it('JPEG folder with a labels file, resized to the model size and center-cropped', async () => {
    const dir = tmp();
    // smooth images (JPEG is lossy): a horizontal ramp, and a constant color
    const ramp = new Uint8Array(16 * 16 * 4);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) ramp.set([x * 16, 128, 255 - x * 16, 255], (y * 16 + x) * 4);
    const flat = new Uint8Array(20 * 12 * 4);
    for (let i = 0; i < 20 * 12; i++) flat.set([200, 100, 50, 255], i * 4);
    writeFileSync(join(dir, 'a.jpg'), jpeg.encode({ width: 16, height: 16, data: ramp }, 100).data);
    writeFileSync(join(dir, 'b.jpeg'), jpeg.encode({ width: 20, height: 12, data: flat }, 100).data);
    writeFileSync(join(dir, 'labels.csv'), 'file,label\na.jpg,1\nb.jpeg,0\n');
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ kind: 'images', path: '.', labels: 'labels.csv', preprocess: { resize: 8, crop: 8 } }));
    const inputs: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: [1, 3, 8, 8] }];
    const { source } = await openData(join(dir, 'spec.json'), { files, inputs });
    const batches = await collect(batchesOf(source, { inputs }));
    // the model's batch axis is fixed at 1: one image per feed
    expect(batches.map((b) => b.feeds.x!.shape)).toEqual([[1, 3, 8, 8], [1, 3, 8, 8]]);
    expect(batches.map((b) => b.labels)).toEqual([[1], [0]]);
    // ramp resized 16→8: column x averages source columns 2x, 2x+1 → red = (32x + 8)/255
    const a = batches[0]!.feeds.x!.data;
    for (let x = 0; x < 8; x++) expect(a[3 * 8 + x]!).toBeCloseTo((32 * x + 8) / 255, 1);
    // constant color survives resize (12x20 → 8x13) and crop (→ 8x8)
    const b = batches[1]!.feeds.x!.data;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 64; i++) expect(b[c * 64 + i]!).toBeCloseTo([200, 100, 50][c]! / 255, 1);
  });
});

describe('image folders for a model that fixes one side', () => {
  it('a fixed height and a dynamic width (text-line recognizer): images scaled to that height, aspect kept', async () => {
    const dir = tmp();
    const flat = (w: number, h: number): Uint8Array => Uint8Array.from({ length: w * h * 3 }, (_, i) => [200, 100, 50][i % 3]!);
    writeFileSync(join(dir, 'a.png'), encodePng({ width: 20, height: 12, data: flat(20, 12), channels: 3, depth: 8 }));
    writeFileSync(join(dir, 'b.png'), encodePng({ width: 16, height: 16, data: flat(16, 16), channels: 3, depth: 8 }));
    writeFileSync(join(dir, 'c.png'), encodePng({ width: 5, height: 8, data: flat(5, 8), channels: 3, depth: 8 }));
    const inputs: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 3, 8, 'W'] }];
    const { source } = await openData(dir, { files, inputs });
    const batches = await collect(batchesOf(source, { inputs, batchSize: 1 }));
    // 12x20 -> 8x13 (20 * 8/12 = 13.3), 16x16 -> 8x8, 8x5 unchanged
    expect(batches.map((b) => b.feeds.x!.shape)).toEqual([[1, 3, 8, 13], [1, 3, 8, 8], [1, 3, 8, 5]]);
    for (const b of batches) b.feeds.x!.data.forEach((v, i) => expect(v).toBeCloseTo([200, 100, 50][Math.floor(i / (b.feeds.x!.data.length / 3))]! / 255, 5));
    // NHWC with a fixed width: the height follows the aspect ratio
    const nhwc: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 'H', 10, 3] }];
    const b2 = await collect(batchesOf((await openData(dir, { files, inputs: nhwc })).source, { inputs: nhwc, batchSize: 1 }));
    expect(b2.map((b) => b.feeds.x!.shape)).toEqual([[1, 6, 10, 3], [1, 10, 10, 3], [1, 16, 10, 3]]);
  });
});

describe('CSV/TSV', () => {
  it('feature columns feed one input, text labels become sorted class indices', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 't.csv'), 'a,b,species,c\n1,2,setosa,3\n4.5,"5",virginica,6\n\n7,8,setosa,-9e-1\n');
    const inputs: ModelInputSpec[] = [{ name: 'features', elemType: 'float32', shape: ['N', 3] }];
    const { source } = await openData(join(dir, 't.csv'), { files, inputs });
    expect(source.hasLabels).toBe(false); // 'species' is not a label column by name
    writeFileSync(join(dir, 's.yaml'), 'kind: csv\npath: t.csv\nlabels: species\n');
    const { source: s2 } = await openData(join(dir, 's.yaml'), { files, inputs });
    const [b] = await collect(batchesOf(s2, { inputs }));
    expect(b!.feeds.features).toEqual({ shape: [3, 3], data: [1, 2, 3, 4.5, 5, 6, 7, 8, Math.fround(-0.9)] });
    expect(b!.labels).toEqual([0, 1, 0]);
  });

  it('a TSV with a label column', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 't.tsv'), 'x1\tx2\tlabel\n0.5\t1\t3\n2\t-1\t0\n');
    const inputs: ModelInputSpec[] = [{ name: 'in', elemType: 'float32', shape: ['N', 2] }];
    const { source } = await openData(join(dir, 't.tsv'), { files, inputs });
    const t = await trainingDataFrom(source, { inputs });
    expect(Array.from(t.x!)).toEqual([0.5, 1, 2, -1]);
    expect(Array.from(t.labels!)).toEqual([3, 0]);
  });

  it('a target column of numbers that are not all integers is a float regression target, not class names', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'r.csv'), 'x1,x2,target\n0.5,1,-0.25\n2,-1,3\n1,1,1.5e1\n');
    const inputs: ModelInputSpec[] = [{ name: 'in', elemType: 'float32', shape: ['N', 2] }];
    const { source } = await openData(join(dir, 'r.csv'), { files, inputs });
    expect(source.hasLabels).toBe(false);
    expect(source.hasTargets).toBe(true);
    expect(source.description).toMatch(/float targets \(regression\) from column 'target'/);
    const chunks = [];
    for await (const c of source.chunks()) chunks.push(c);
    expect(chunks[0]!.labels).toBeUndefined();
    expect(chunks[0]!.targets!.target!.shape).toEqual([3, 1]);
    expect(Array.from(chunks[0]!.targets!.target!.data as Float32Array)).toEqual([-0.25, 3, 15]);
    // training: float targets (mse) for the model's default output, as the column names no output
    const t = await trainingDataFrom(source, { inputs });
    expect(Array.from(t.targets!.data as Float32Array)).toEqual([-0.25, 3, 15]);
    expect(t.labels).toBeUndefined();
    // integers stay class labels
    writeFileSync(join(dir, 'c.csv'), 'x1,x2,target\n0.5,1,2\n2,-1,0\n');
    const { source: c } = await openData(join(dir, 'c.csv'), { files, inputs });
    expect([c.hasLabels, c.hasTargets]).toEqual([true, false]);
  });

  it('labels: whole floats are class indices; an empty cell, a word among numbers or a negative index is named by line', async () => {
    const dir = tmp();
    const inputs: ModelInputSpec[] = [{ name: 'in', elemType: 'float32', shape: ['N', 2] }];
    writeFileSync(join(dir, 'f.csv'), 'x1,x2,label\n0.5,1,2.0\n2,-1,0.0\n1,1,1\n');
    const { source: f } = await openData(join(dir, 'f.csv'), { files, inputs });
    expect([f.hasLabels, f.hasTargets]).toEqual([true, false]);
    expect((await collect(batchesOf(f, { inputs })))[0]!.labels).toEqual([2, 0, 1]);
    for (const [name, body, message] of [
      ['empty.csv', 'x1,x2,label\n0.5,1,1\n2,-1,\n', /line 3: the label column 'label' is empty/],
      ['na.csv', 'x1,x2,label\n0.5,1,1\n2,-1,NA\n1,1,0\n', /line 3: label 'NA' is not a number while other labels are \(1, 0\)/],
      ['neg.csv', 'x1,x2,label\n0.5,1,1\n2,-1,-1\n', /line 3: label -1 is not a class index/],
      ['semi.csv', 'x1,x2,label\n0.5;1;1\n', /line 2 has 1 field\(s\), the header 3 \(it holds ';': if that separates the columns, give delimiter: ';' in a data spec\)/],
    ] as const) {
      writeFileSync(join(dir, name), body);
      await expect(openData(join(dir, name), { files, inputs }).then(({ source }) => collect(batchesOf(source, { inputs }))), name).rejects.toThrow(message);
    }
  });
});

describe('JSONL', () => {
  it('token-id arrays feed the integer input; different lengths go to different batches', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 't.jsonl'), '[1, 2, 3]\n[4, 5, 6]\n[7, 8]\n\n{"input_ids": [9, 10], "attention_mask": [1, 1]}\n');
    const inputs: ModelInputSpec[] = [{ name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] }];
    const { source } = await openData(join(dir, 't.jsonl'), { files, inputs: [inputs[0]!, { name: 'attention_mask', elemType: 'int64', shape: ['batch', 'seq'] }] });
    // the last line feeds both inputs; the first three only input_ids → missing attention_mask
    await expect(collect(batchesOf(source, { inputs: [inputs[0]!, { name: 'attention_mask', elemType: 'int64', shape: ['batch', 'seq'] }] }))).rejects.toThrow(/t\.jsonl, sample 0: no data for model input\(s\) 'attention_mask'/);
    writeFileSync(join(dir, 'u.jsonl'), '[1, 2, 3]\n[4, 5, 6]\n[7, 8]\n');
    const { source: s2 } = await openData(join(dir, 'u.jsonl'), { files, inputs });
    const b = await collect(batchesOf(s2, { inputs }));
    expect(b.map((x) => x.feeds.input_ids)).toEqual([{ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, { shape: [1, 2], data: [7, 8] }]);
  });

  it('objects with labels', async () => {
    const f = memoryFiles({ 'd.jsonl': new TextEncoder().encode('{"x": [[0.5, 1], [2, 3]], "label": 4}\n{"x": [[1, 1], [1, 1]], "label": 0}\n') });
    const inputs: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['N', 2, 2] }];
    const { source } = await openData('d.jsonl', { files: f, inputs });
    const [b] = await collect(batchesOf(source, { inputs }));
    expect(b!.feeds.x).toEqual({ shape: [2, 2, 2], data: [0.5, 1, 2, 3, 1, 1, 1, 1] });
    expect(b!.labels).toEqual([4, 0]);
  });
});

describe('synthetic', () => {
  it('seeded inputs of the model specs, the same on every iteration, dynamic dims filled', async () => {
    const inputs: ModelInputSpec[] = [
      { name: 'x', elemType: 'float32', shape: ['N', 'T', 3] },
      { name: 'sr', elemType: 'int64', shape: [] },
      { name: 'h', elemType: 'float32', shape: [2, 1, 4] },
    ];
    const s = syntheticSource(inputs, { count: 3, seed: 7, dims: { T: 5 }, values: { sr: 16000, h: 0 } });
    expect(s.dataFree).toBe(true);
    expect(s.description).toMatch(/data-free/);
    const a = await collect(batchesOf(s, { inputs }));
    const b = await collect(batchesOf(s, { inputs }));
    expect(a).toEqual(b);
    // fixed-shape inputs (sr scalar, h [2,1,4]) cannot be joined: one feed per sample
    expect(a.length).toBe(3);
    expect(a[0]!.feeds.x!.shape).toEqual([1, 5, 3]);
    expect(a[0]!.feeds.sr).toEqual({ shape: [], data: [16000] });
    expect(a[0]!.feeds.h).toEqual({ shape: [2, 1, 4], data: new Array(8).fill(0) });
    const x = a.flatMap((q) => q.feeds.x!.data);
    const mean = x.reduce((p, v) => p + v, 0) / x.length;
    expect(new Set(x).size).toBe(x.length);
    expect(Math.abs(mean)).toBeLessThan(0.7);
    const other = await collect(batchesOf(syntheticSource(inputs, { count: 3, seed: 8, dims: { T: 5 } }), { inputs }));
    expect(other[0]!.feeds.x!.data).not.toEqual(a[0]!.feeds.x!.data);
  });

  it('an unnamed axis 1 of a recurrent state ([directions·layers, batch, hidden]) is the batch', async () => {
    const inputs: ModelInputSpec[] = [
      { name: 'input', elemType: 'float32', shape: ['', ''] },
      { name: 'state', elemType: 'float32', shape: [2, '', 128] },
      { name: 'h0', elemType: 'float32', shape: [1, null, 8] },
      { name: 'feats', elemType: 'float32', shape: [4, null, 8] },
    ];
    const s = syntheticSource(inputs, { count: 1 });
    const [b] = await collect(batchesOf(s, { inputs }));
    expect(b!.feeds.state!.shape).toEqual([2, 1, 128]);
    expect(b!.feeds.h0!.shape).toEqual([1, 1, 8]);
    // not a state by name: an unnamed dim keeps the default size
    expect(b!.feeds.feats!.shape).toEqual([4, 16, 8]);
    expect(s.description).toContain('axis 1=1 (batch of a recurrent state)');
  });

  it('image-like inputs get image-sized sides, sequences stay small; dims/imageDim/defaultDim override; the description says', async () => {
    const inputs: ModelInputSpec[] = [
      { name: 'x', elemType: 'float32', shape: ['batch', 3, 'H', 'W'] },
      { name: 'ids', elemType: 'int64', shape: ['batch', 'seq'] },
      { name: 'nhwc', elemType: 'float32', shape: ['batch', null, null, 3] },
      { name: 'feats', elemType: 'float32', shape: ['batch', 'frames', 'mel', 'ch'] },
    ];
    const shapes = async (o: Parameters<typeof syntheticSource>[1]) => {
      const [b] = await collect(batchesOf(syntheticSource(inputs, { count: 1, ...o }), { inputs }));
      return Object.fromEntries(Object.entries(b!.feeds).map(([k, v]) => [k, v.shape]));
    };
    expect(await shapes({})).toEqual({ x: [1, 3, 224, 224], ids: [1, 16], nhwc: [1, 224, 224, 3], feats: [1, 16, 16, 16] });
    expect(await shapes({ imageDim: 96, dims: { W: 320, seq: 7 } })).toEqual({ x: [1, 3, 96, 320], ids: [1, 7], nhwc: [1, 96, 96, 3], feats: [1, 16, 16, 16] });
    // defaultDim alone sizes every unnamed dynamic dim, images included (what it did before image sizing)
    expect(await shapes({ defaultDim: 32 })).toEqual({ x: [1, 3, 32, 32], ids: [1, 32], nhwc: [1, 32, 32, 3], feats: [1, 32, 32, 32] });
    expect(await shapes({ defaultDim: 8, imageDim: 64 })).toEqual({ x: [1, 3, 64, 64], ids: [1, 8], nhwc: [1, 64, 64, 3], feats: [1, 8, 8, 8] });
    const d = syntheticSource(inputs.slice(0, 2), { dims: { seq: 7 } }).description;
    expect(d).toContain('x [3,224,224] (H=224 (image side), W=224 (image side))');
    expect(d).toContain('ids [7] (seq=7)');
    // a float mask [batch, 1, seq, seq] looks like an image, but `seq` also sizes token ids: it stays small
    const lm: ModelInputSpec[] = [
      { name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] },
      { name: 'mask', elemType: 'float32', shape: ['batch', 1, 'seq', 'seq'] },
    ];
    const [m] = await collect(batchesOf(syntheticSource(lm, { count: 1 }), { inputs: lm }));
    expect(m!.feeds.mask!.shape).toEqual([1, 1, 16, 16]);
    expect(m!.feeds.input_ids!.shape).toEqual([1, 16]);
    expect(() => syntheticSource(inputs, { imageDim: 0 })).toThrow(/imageDim must be a positive integer/);
    expect(() => syntheticSource(inputs, { signalDim: -1 })).toThrow(/signalDim must be a positive integer/);
    expect(() => syntheticSource(inputs, { dims: { seq: 2.5 } })).toThrow(/dims.seq must be a positive integer/);
  });

  it('dims agree across inputs: a batch name is 1 everywhere, caches are not images, sums add their terms, signals get a window', async () => {
    const shapesOf = async (inputs: ModelInputSpec[], o: Parameters<typeof syntheticSource>[1] = {}) => {
      const [b] = await collect(batchesOf(syntheticSource(inputs, { count: 1, ...o }), { inputs }));
      return Object.fromEntries(Object.entries(b!.feeds).map(([k, v]) => [k, v.shape]));
    };
    // an Optimum decoder with a KV cache (4 heads: shaped like an NCHW image) and a mask over past + new tokens
    const decoder: ModelInputSpec[] = [
      { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'past_sequence_length + sequence_length'] },
      { name: 'past_key_values.0.key', elemType: 'float32', shape: ['batch_size', 4, 'past_sequence_length', 16] },
      { name: 'past_key_values.0.value', elemType: 'float32', shape: ['batch_size', 4, 'past_sequence_length', 16] },
    ];
    // an empty past (a decoder's first step), so the mask covers the new tokens only
    expect(await shapesOf(decoder)).toEqual({ input_ids: [1, 16], attention_mask: [1, 16], 'past_key_values.0.key': [1, 4, 0, 16], 'past_key_values.0.value': [1, 4, 0, 16] });
    const [first] = await collect(batchesOf(syntheticSource(decoder, { count: 2 }), { inputs: decoder }));
    expect(new Set(first!.feeds.attention_mask!.data)).toEqual(new Set([1]));
    expect(new Set(first!.feeds.input_ids!.data).size).toBeGreaterThan(1);
    expect(await shapesOf(decoder, { dims: { past_sequence_length: 3, sequence_length: 5 } })).toMatchObject({ attention_mask: [1, 8], 'past_key_values.0.key': [1, 4, 3, 16] });
    expect(syntheticSource(decoder).description).toContain('past_sequence_length + sequence_length=16 (sum)');
    expect(syntheticSource(decoder).description).toContain('past_sequence_length=0 (empty cache)');
    expect(await shapesOf(decoder, { defaultDim: 8 })).toMatchObject({ attention_mask: [1, 16], 'past_key_values.0.key': [1, 4, 8, 16] });
    // a merged decoder's branch flag: false while the caches are empty (the cache branch would
    // attend over no keys), true once they are sized
    const merged: ModelInputSpec[] = [...decoder, { name: 'use_cache_branch', elemType: 'bool', shape: [1] }];
    const flags = async (o: Parameters<typeof syntheticSource>[1] = {}) => {
      const bs = await collect(batchesOf(syntheticSource(merged, { count: 8, ...o }), { inputs: merged, batchSize: 1 }));
      return new Set(bs.map((b) => b.feeds.use_cache_branch!.data[0]));
    };
    expect(await flags()).toEqual(new Set([0]));
    expect(await flags({ dims: { past_sequence_length: 3 } })).toEqual(new Set([1]));
    expect(await flags({ values: { use_cache_branch: 1 } })).toEqual(new Set([1]));
    // Silero-style VAD: audio [batch, samples] and recurrent state [2, batch, 128]
    const vad: ModelInputSpec[] = [
      { name: 'input', elemType: 'float32', shape: ['batch', 'sequence'] },
      { name: 'state', elemType: 'float32', shape: [2, 'batch', 128] },
      { name: 'sr', elemType: 'int64', shape: [] },
    ];
    expect(await shapesOf(vad)).toEqual({ input: [1, 512], state: [2, 1, 128], sr: [] });
    expect(await shapesOf(vad, { signalDim: 1280 })).toMatchObject({ input: [1, 1280] });
    expect(syntheticSource(vad).description).toContain('sequence=512 (signal length)');
    // a float [batch, seq] next to token ids [batch, seq] is not a signal: seq keeps one size
    const mixed: ModelInputSpec[] = [
      { name: 'ids', elemType: 'int64', shape: ['b', 'seq'] },
      { name: 'weights', elemType: 'float32', shape: ['b', 'seq'] },
    ];
    expect(await shapesOf(mixed)).toEqual({ ids: [1, 16], weights: [1, 16] });
  });
});
