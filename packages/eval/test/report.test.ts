import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'fflate';
import { GraphBuilder } from '@whittle/graph';
import { ArgumentError, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import {
  LayoutError,
  buildReport,
  compareOutputs,
  GZIP_LEVEL,
  gzipSize,
  latencyStats,
  measureSize,
  modelCard,
  paretoFront,
  percentile,
  reportFromJson,
  reportToJson,
  reportToMarkdown,
  transformersJsPath,
  weightSparsity,
  type SizeMetrics,
} from '../src/index.js';

const size = (fileBytes: number): SizeMetrics => ({ fileBytes, gzipBytes: fileBytes / 2, parameters: 10, weightBytes: 40, sparsity: 0, zeroWeights: 0, flops: 0, macs: 0, assumedDims: [], byDtype: {} });

describe('fidelity', () => {
  it('cosine, SQNR, errors and top-1 agreement against hand-computed values', () => {
    const ref = [1, 2, 3, 4, 0, 0];
    const cand = [1, 2, 3, 3, 0, 1];
    const f = compareOutputs(ref, cand, { numClasses: 3 });
    // dot 1+4+9+12 = 26; |ref|² 30; |cand|² 24
    expect(f.cosine).toBeCloseTo(26 / Math.sqrt(30 * 24), 12);
    // noise: (4−3)² + (0−1)² = 2 → SQNR 10·log10(30/2)
    expect(f.sqnrDb).toBeCloseTo(10 * Math.log10(15), 12);
    expect(f.maxAbsError).toBe(1);
    expect(f.meanAbsError).toBeCloseTo(2 / 6, 12);
    expect(f.rmse).toBeCloseTo(Math.sqrt(2 / 6), 12);
    // rows [1,2,3] vs [1,2,3] agree (argmax 2); [4,0,0] vs [3,0,1] agree (argmax 0)
    expect(f.top1Agreement).toBe(1);
    expect(compareOutputs([0, 1], [1, 0], { numClasses: 2 }).top1Agreement).toBe(0);
    expect(compareOutputs([1, 2], [1, 2]).sqnrDb).toBe(Infinity);
    expect(() => compareOutputs([1, 2], [1])).toThrow(ArgumentError);
  });
});

describe('Pareto front and report', () => {
  it('keeps exactly the non-dominated variants, by increasing size', () => {
    // sizes / accuracies: a(100, .95) b(50, .94) c(60, .93: dominated by b) d(10, .80) e(10, .70: dominated by d) f(5, no accuracy)
    const pts = [{ size: 100, accuracy: 0.95 }, { size: 50, accuracy: 0.94 }, { size: 60, accuracy: 0.93 }, { size: 10, accuracy: 0.8 }, { size: 10, accuracy: 0.7 }, { size: 5 }];
    expect(paretoFront(pts)).toEqual([3, 1, 0]);
    expect(() => paretoFront([{ size: -1, accuracy: 1 }])).toThrow(/sizes must be/);
  });

  it('ratios, deltas, Pareto flags, Markdown and a JSON round trip', () => {
    const r = buildReport(
      [
        { name: 'fp32', technique: 'original', size: size(1000), accuracy: 0.95 },
        { name: 'int8', technique: 'int8 weights', size: size(250), accuracy: 0.949 },
        { name: 'bad', technique: 'too aggressive', size: size(500), accuracy: 0.5 },
      ],
      { createdAt: '2026-01-01T00:00:00.000Z', dataset: { name: 'MNIST', split: 'test', count: 2004 } },
    );
    expect(r.rows.map((x) => x.ratio)).toEqual([1, 4, 2]);
    expect(r.rows[1]!.deltaPt).toBeCloseTo(-0.1, 10);
    expect(r.rows.map((x) => x.pareto)).toEqual([true, true, false]);
    expect(r.paretoFront).toEqual(['int8', 'fp32']);
    const md = reportToMarkdown(r);
    expect(md).toMatch(/\| ★ \| `int8` \| int8 weights \|/);
    expect(md).toMatch(/4\.00×/);
    expect(reportFromJson(reportToJson(r))).toEqual(r);
    expect(() => buildReport([{ name: 'a', technique: '', size: size(1) }, { name: 'a', technique: '', size: size(1) }])).toThrow(/appears twice/);
    expect(() => buildReport([{ name: 'a', technique: '', size: size(1) }], { baseline: 'zzz' })).toThrow(/baseline 'zzz'/);
    const card = modelCard(r, { variant: 'int8', trainingData: 'MNIST train split' });
    expect(card).toMatch(/# Model card: int8/);
    expect(card).toMatch(/\| Compression ratio \(file\) \| 4\.00× \| 1× \|/);
    expect(card).toMatch(/0\.10 pt lower than the baseline/);
    expect(() => modelCard(r, { variant: 'nope' })).toThrow(/not in the report/);
  });

  it('without accuracies (a fidelity run) the front trades size against top-1 agreement with the baseline, else output cosine', () => {
    const fid = (top1Agreement: number | undefined, cosine: number) => ({ count: 10, cosine, sqnrDb: 20, maxAbsError: 0.1, meanAbsError: 0.01, rmse: 0.02, ...(top1Agreement !== undefined ? { top1Agreement } : {}) });
    const r = buildReport([
      { name: 'fp32', technique: 'original', size: size(1000) },
      { name: 'int8', technique: 'int8', size: size(250), fidelity: fid(0.99, 0.999) },
      { name: 'int4', technique: 'int4', size: size(130), fidelity: fid(0.97, 0.99) },
      { name: 'bad', technique: 'pruned', size: size(300), fidelity: fid(0.6, 0.8) },
    ]);
    expect(r.paretoAxis).toBe('top-1 agreement');
    expect(r.paretoFront).toEqual(['int4', 'int8', 'fp32']);
    expect(reportToMarkdown(r)).toContain('Pareto front (size → top-1 agreement with the baseline): `int4` → `int8` → `fp32`.');
    const c = buildReport([
      { name: 'fp32', technique: 'original', size: size(1000) },
      { name: 'small', technique: 'int4', size: size(130), fidelity: fid(undefined, 0.99) },
    ]);
    expect([c.paretoAxis, c.paretoFront]).toEqual(['output cosine', ['small', 'fp32']]);
    // every variant agreeing on every top-1 (a decoder predicting one token for all made-up
    // inputs) ranks nothing: the front is by cosine, with the baseline on it
    const tied = buildReport([
      { name: 'q8', technique: 'original', size: size(1000) },
      { name: 'q4', technique: 'int4', size: size(600), fidelity: fid(1, 0.71) },
      { name: 'f16', technique: 'float16', size: size(990), fidelity: fid(1, 0.997) },
    ]);
    expect([tied.paretoAxis, tied.paretoFront]).toEqual(['output cosine', ['q4', 'f16', 'q8']]);
  });
});

describe('size and latency statistics', () => {
  it('gzip size is the real compressed length; sparsity counts zero weights of rank >= 2 only', () => {
    const bytes = new Uint8Array(10000).fill(7);
    const gz = gzipSize(bytes);
    expect(gz).toBeLessThan(200);
    expect(GZIP_LEVEL).toBe(6); // the one level of every size report (shared with @whittle/prune)
    expect(gunzipSync(gzipSync(bytes, { level: 6 }))).toEqual(bytes);
    expect(gz).toBe(gzipSync(bytes, { level: 6 }).length);
    const b = new GraphBuilder('m');
    const x = b.input('x', 'float32', ['N', 4]);
    const w = b.initializer('w', tensor(Float32Array.from([0, 1, 0, 2, 0, 0, 3, 0]), [4, 2], 'float32', { backend: 'cpu' }));
    const bias = b.initializer('b', tensor(Float32Array.from([0, 0]), [2], 'float32', { backend: 'cpu' }));
    b.output(b.node('Gemm', [x, w, bias]), 'float32', ['N', 2]);
    const m = b.model();
    expect(weightSparsity(m)).toEqual({ weights: 8, zeros: 5, sparsity: 5 / 8 });
    const enc = writeModel(m);
    const s = measureSize(enc, { dims: { N: 3 } });
    expect(s.fileBytes).toBe(enc.length);
    expect(s.gzipBytes).toBe(gzipSize(enc));
    expect(s.parameters).toBe(10);
    expect(s.flops).toBe(2 * 3 * 4 * 2 + 3 * 2); // Gemm [3,4]x[4,2] (multiply-add = 2) plus the bias adds
    expect(s.macs).toBe(3 * 4 * 2);
  });

  it('percentiles follow NumPy linear interpolation', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 50)).toBe(3);
    expect(percentile(xs, 90)).toBeCloseTo(4.6, 12); // position 0.9·4 = 3.6 between 4 and 5
    expect(percentile([1, 2], 25)).toBe(1.25);
    const st = latencyStats(xs, 1, 2);
    expect(st).toMatchObject({ batchSize: 1, runs: 5, warmup: 2, p50Ms: 3, meanMs: 3, minMs: 1, maxMs: 5 });
    expect(() => percentile([], 50)).toThrow(/no samples/);
  });

  it('Transformers.js paths for each dtype', () => {
    expect(transformersJsPath('fp32')).toBe('onnx/model.onnx');
    expect(transformersJsPath('q8')).toBe('onnx/model_quantized.onnx');
    expect(transformersJsPath('q4')).toBe('onnx/model_q4.onnx');
    expect(transformersJsPath('fp16', 'decoder_model_merged')).toBe('onnx/decoder_model_merged_fp16.onnx');
    expect(() => transformersJsPath('q3' as 'q4')).toThrow(LayoutError);
    expect(() => transformersJsPath('q4', '../evil')).toThrow(/plain name/);
  });
});
