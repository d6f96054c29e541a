import { gunzipSync, gzipSync } from 'node:zlib';
import { gzipSync as fflateGzip } from 'fflate';
import { runPass } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { describe, expect, it } from 'vitest';
import { GZIP_LEVEL, REPORT_GZIP_LEVEL, gzipSize, initializerBytesOf, sparsityReport } from '../src/index.js';
import { Rng, runOrt, values } from './helpers.js';
import { LAYERS, smallNet } from './models.js';

// FLOPs at batch 1, multiply-adds counting 2, biases 1 (graph's summarize convention), by hand:
const DENSE_FLOPS = { conv: 2 * (4 * 6 * 6) * (8 * 3 * 3) + 4 * 6 * 6, fc: 2 * 16 * 144 + 16, mm: 2 * 12 * 16 } as const;

describe('sparsityReport', () => {
  it('per layer and overall: sparsity, parameters, dense and effective FLOPs, file and gzip sizes', async () => {
    const dense = smallNet(new Rng(1));
    const pruned = (await runPass('prune-unstructured', dense, { sparsity: 0.75, scope: 'layer' })).model;
    const serialize = (m: Parameters<typeof writeModel>[0]): Promise<Uint8Array> | Uint8Array => writeModel(m);
    const r = await sparsityReport(pruned, { serialize, dims: { N: 1 } });
    const rd = await sparsityReport(dense, { serialize, dims: { N: 1 } });
    expect(r.layers.map((l) => l.node)).toEqual(LAYERS.map((l) => l.node));
    let zerosAll = 0;
    let all = 0;
    for (const l of LAYERS) {
      const v = await values(pruned, l.weight);
      const zeros = v.filter((x) => x === 0).length;
      const line = r.layers.find((x) => x.node === l.node)!;
      expect(line.total).toBe(l.rows * l.cols);
      expect(line.nonzero).toBe(v.length - zeros);
      expect(line.sparsity).toBeCloseTo(zeros / v.length, 12);
      expect(line.sparsity).toBeCloseTo(0.75, 2);
      expect(line.flopsDense).toBe(DENSE_FLOPS[l.node]);
      expect(line.flopsEffective).toBe(Math.round(DENSE_FLOPS[l.node] * (1 - zeros / v.length)));
      zerosAll += zeros;
      all += v.length;
    }
    expect(r.sparsity).toBeCloseTo(zerosAll / all, 12);
    // every initializer element: weights + conv/fc/mm biases
    expect(r.parameters).toBe(all + 4 + 16 + 12);
    expect(r.flopsDense).toBe(DENSE_FLOPS.conv + DENSE_FLOPS.fc + DENSE_FLOPS.mm);
    expect(rd.flopsEffective).toBe(rd.flopsDense);
    expect(r.flopsEffective).toBeLessThan(0.3 * r.flopsDense);
    // file size is the written model's; gzip sizes are within 2 % of zlib's at the same level, and zeros compress
    const bytes = await writeModel(pruned);
    expect(r.fileBytes).toBe(bytes.length);
    expect(Math.abs(r.fileGzipBytes! / gzipSync(bytes, { level: GZIP_LEVEL }).length - 1)).toBeLessThan(0.02);
    expect(r.weightBytes).toBe(4 * r.parameters);
    expect(r.weightGzipBytes).toBeLessThan(0.6 * rd.weightGzipBytes);
    expect(r.fileGzipBytes!).toBeLessThan(rd.fileGzipBytes!);
    // both gzip sizes are fflate's at the report's documented level (the shared level 6), on the bytes they name
    expect(REPORT_GZIP_LEVEL).toBe(6);
    expect(REPORT_GZIP_LEVEL).toBe(GZIP_LEVEL);
    expect(r.fileGzipBytes).toBe(fflateGzip(bytes, { level: REPORT_GZIP_LEVEL }).length);
    expect(r.weightGzipBytes).toBe(fflateGzip(await initializerBytesOf(pruned), { level: REPORT_GZIP_LEVEL }).length);
    expect(r.fileBytes).toBe(rd.fileBytes); // same dense storage, only more zeros
    // the model ORT loads is the one measured
    expect((await runOrt(pruned, { input: { data: new Float32Array(2 * 8 * 36).fill(0.5), shape: [2, 8, 6, 6] } })).bytes.length).toBe(r.fileBytes);
  });

  it('gzipSize is the length of a real gzip stream at the shared level (zlib inflates it back), within 10 % of zlib at that level', () => {
    const rng = new Rng(3);
    const b = Uint8Array.from({ length: 5000 }, (_, i) => (i % 3 ? 0 : rng.int(256)));
    const z = fflateGzip(b, { level: GZIP_LEVEL });
    expect(Buffer.from(gunzipSync(z)).equals(Buffer.from(b))).toBe(true);
    expect(gzipSize(b)).toBe(z.length);
    expect(z.length / gzipSync(b, { level: GZIP_LEVEL }).length).toBeLessThan(1.1); // fflate trails zlib a little on tiny inputs
  });
});
