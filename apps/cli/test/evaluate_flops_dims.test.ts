/**
 * The per-sample FLOPs estimate of `evaluate` is made at the sizes the data feeds (a sequence of
 * 10 counts as 10), with the batch axis as 1, and the report says at which sizes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '@whittle/graph';
import { encodeNpy } from '@whittle/eval';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { symbolicDimsFromData } from '../src/evaluate.js';
import { whittleInProcess } from './in_process.js';

describe('evaluate: FLOPs at the data sizes', () => {
  it('binds symbolic dims from the first batch, batch axis as 1', () => {
    const inputs = [{ name: 'x', shape: ['batch', 'seq', 16] }, { name: 'm', shape: ['batch', 'seq'] }, { name: 'n', shape: ['len'] }];
    expect(symbolicDimsFromData(inputs, { x: { dims: [4, 10, 16] }, m: { dims: [4, 10] }, n: { dims: [7] } })).toEqual({ batch: 1, seq: 10, len: 7 });
    expect(symbolicDimsFromData(inputs, undefined)).toBeUndefined();
    expect(symbolicDimsFromData([{ name: 'x', shape: [1, 3] }], { x: { dims: [1, 3] } })).toBeUndefined();
  });

  it('a [batch, seq, 16] x [16, 32] MatMul fed 10-token samples reports 2·10·16·32 FLOPs per sample, at seq 10', async () => {
    const rng = new Rng(1);
    const b = new GraphBuilder('seq');
    const x = b.input('x', 'float32', ['batch', 'seq', 16]);
    const w = b.initializer('w', tensor(Float32Array.from({ length: 16 * 32 }, () => rng.normal()), [16, 32], 'float32', { backend: 'cpu' }));
    b.output(b.node('MatMul', [x, w]), 'float32', ['batch', 'seq', 32]);
    const dir = mkdtempSync(join(tmpdir(), 'whittle-flops-'));
    writeFileSync(join(dir, 'm.onnx'), writeModel(b.model([{ domain: '', version: 17 }])));
    writeFileSync(join(dir, 'x.npy'), encodeNpy({ data: Float32Array.from({ length: 4 * 10 * 16 }, () => rng.normal()), shape: [4, 10, 16], dtype: 'float32' }));
    const r = await whittleInProcess('evaluate', join(dir, 'm.onnx'), '--data', join(dir, 'x.npy'), '--task', 'fidelity', '--no-latency', '--report', join(dir, 'rep'));
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'rep', 'report.json'), 'utf8')) as { rows: { size: { flops: number; dims?: Record<string, number>; assumedDims: string[] } }[] };
    expect(rep.rows[0]!.size.flops).toBe(2 * 10 * 16 * 32);
    expect(rep.rows[0]!.size.dims).toEqual({ batch: 1, seq: 10 });
    expect(rep.rows[0]!.size.assumedDims).toEqual([]);
    expect(readFileSync(join(dir, 'rep', 'report.md'), 'utf8')).toMatch(/FLOPs per sample \(estimate, [^)]*; at batch 1, seq 10\): `m` 10\.2k \(5120 multiply-adds\)/);
  });
});
