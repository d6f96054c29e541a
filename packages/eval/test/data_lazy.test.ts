/** Large data stays bounded: .npy, image folders and text are read batch by batch, never whole. */
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { type DataFiles, type ModelInputSpec, batchesOf, encodeNpy, memoryFiles, openData } from '../src/index.js';

/** Files that count what was read: whole-file reads, and the bytes of every ranged read. */
function counting(inner: DataFiles): DataFiles & { whole: string[]; bytes: number } {
  const c = {
    whole: [] as string[],
    bytes: 0,
    read: async (p: string) => {
      c.whole.push(p);
      const b = await inner.read(p);
      c.bytes += b.length;
      return b;
    },
    readRange: async (p: string, o: number, n: number) => {
      const b = await inner.readRange(p, o, n);
      c.bytes += b.length;
      return b;
    },
    size: (p: string) => inner.size(p),
    list: (d: string) => inner.list(d),
    isDir: (p: string) => inner.isDir(p),
  };
  return c;
}

async function firstBatch(files: DataFiles, path: string, inputs: ModelInputSpec[], batchSize: number): Promise<number> {
  const { source } = await openData(path, { files, inputs });
  let n = 0;
  for await (const b of batchesOf(source, { inputs, batchSize, limit: batchSize })) n += b.count;
  return n;
}

describe('bounded reading', () => {
  it('a 16 MB .npy: 8 samples read about one 4 MB chunk, never the whole file', async () => {
    const rows = 4096;
    const per = 1024;
    const npy = encodeNpy({ data: new Float32Array(rows * per).map((_, i) => i % 7), shape: [rows, per], dtype: 'float32' });
    const files = counting(memoryFiles({ 'big.npy': npy }));
    expect(await firstBatch(files, 'big.npy', [{ name: 'x', elemType: 'float32', shape: ['n', per] }], 8)).toBe(8);
    expect(files.whole).toEqual([]);
    expect(files.bytes).toBeLessThanOrEqual((4 << 20) + 4096);
    expect(files.bytes).toBeLessThan(npy.length / 3);
  });

  it('an image folder: only the images of the first batch are decoded', async () => {
    const png = encodePng({ width: 8, height: 8, data: new Uint8Array(64).fill(200), channels: 1, depth: 8 });
    const all: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) all[`imgs/${i % 2 ? 'b' : 'a'}/${String(i).padStart(3, '0')}.png`] = png;
    const files = counting(memoryFiles(all));
    expect(await firstBatch(files, 'imgs', [{ name: 'x', elemType: 'float32', shape: ['n', 1, 8, 8] }], 4)).toBe(4);
    expect(files.whole.length).toBe(4);
  });

  it('a 3 MB text: the first windows read one 1 MiB block', async () => {
    const tokenizer = {
      model: { type: 'WordLevel', vocab: { '[UNK]': 0, hello: 1, world: 2 }, unk_token: '[UNK]' },
      pre_tokenizer: { type: 'Whitespace' },
      added_tokens: [],
    };
    const text = new TextEncoder().encode('hello world hello\n'.repeat(180_000));
    const files = counting(memoryFiles({ 't/a.txt': text, 't/tokenizer.json': new TextEncoder().encode(JSON.stringify(tokenizer)) }));
    const inputs: ModelInputSpec[] = [{ name: 'input_ids', elemType: 'int64', shape: ['b', 's'] }];
    expect(await firstBatch(files, 't/a.txt', inputs, 4)).toBe(4);
    expect(files.whole).toEqual(['t/tokenizer.json']);
    expect(files.bytes).toBeLessThan((1 << 20) + 1000);
    expect(text.length).toBeGreaterThan(3_000_000);
  });
});

describe('regression targets', () => {
  it('a float labels.npy beside the inputs becomes per-sample targets (batched with the samples), not class labels', async () => {
    const x = new Float32Array(10).map((_, i) => i);
    const y = Float32Array.of(0.5, 1.5, 2.5, 3.5, 4.5);
    const files = memoryFiles({ 'd/x.npy': encodeNpy({ data: x, shape: [5, 2], dtype: 'float32' }), 'd/labels.npy': encodeNpy({ data: y, shape: [5], dtype: 'float32' }) });
    const inputs: ModelInputSpec[] = [{ name: 'x', elemType: 'float32', shape: ['n', 2] }];
    const { source } = await openData('d', { files, inputs });
    expect(source.hasLabels).toBe(false);
    expect(source.description).toContain('with targets from labels.npy');
    const got: number[][] = [];
    for await (const b of batchesOf(source, { inputs, batchSize: 3 })) {
      expect(b.labels).toBeUndefined();
      expect(b.targets!.targets!.shape).toEqual([b.count]);
      got.push(Array.from(b.targets!.targets!.dataSync() as Float32Array));
    }
    expect(got).toEqual([[0.5, 1.5, 2.5], [3.5, 4.5]]);
  });
});
