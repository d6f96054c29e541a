/**
 * Block-wise RTN asked of a model with convolutions: Conv weights have no block axis and get one
 * scale per output channel, and the summary says so instead of claiming blocks for every weight.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { resnetCnn } from './models.js';

describe('quantize-weights granularity per weight', () => {
  it('block 32 on a CNN: the Conv weights quantized per output channel, counted in the summary', async () => {
    const m = resnetCnn();
    const convs = m.graph.nodes.filter((n) => n.opType === 'Conv').length;
    const r = await runPass(quantizeWeightsPass, m, { bits: 8, blockSize: 32 });
    const layers = (r.report.details as { layers: { weight: string; granularity?: string }[] }).layers;
    expect(r.report.changed).toBe(true);
    expect(r.report.summary).toMatch(new RegExp(`^8-bit \\(block 32, symmetric; ${convs} Conv weights per output channel: no block axis\\)`));
    expect(layers.length).toBeGreaterThanOrEqual(convs);
    expect(r.report.warnings?.join('\n') ?? '').not.toMatch(/one scale per output channel/); // 8-bit: fine
    const q4 = await runPass(quantizeWeightsPass, m, { bits: 4, blockSize: 32, int8ConvBelow: 0 });
    expect(q4.report.warnings?.join('\n')).toMatch(new RegExp(`${convs} Conv weight\\(s\\) on a 4-bit grid with one scale per output channel`));
  });
});

describe('quantize-weights on a dynamic-int8 CNN', () => {
  it('nothing to quantize, and the hint does not promise a re-quantization that makes nothing smaller', async () => {
    const rng = new Rng(2);
    const b = new GraphBuilder('convs');
    const x = b.input('x', 'float32', ['N', 8, 8, 8]);
    const c1 = b.node('Conv', [x, b.initializer('w1', tensor(Float32Array.from({ length: 16 * 8 * 9 }, () => rng.normal() * 0.3), [16, 8, 3, 3]))], {}, { name: 'c1' });
    const y = b.node('Conv', [b.node('Relu', [c1]), b.initializer('w2', tensor(Float32Array.from({ length: 16 * 16 * 9 }, () => rng.normal() * 0.3), [16, 16, 3, 3]))], {}, { name: 'c2' });
    b.output(y, 'float32', ['N', 16, 4, 4]);
    const int8 = (await runPass('quantize-dynamic', b.model([{ domain: '', version: 17 }]), {})).model;
    expect(int8.graph.nodes.filter((n) => n.opType === 'ConvInteger')).toHaveLength(2);
    const r = await runPass(quantizeWeightsPass, int8, { bits: 4 });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/its 2 ConvInteger layer\(s\) are int8 already, and no 4-bit form holds a convolution weight .*nothing smaller can be made from them/);
    expect(r.report.summary).not.toMatch(/--requantize-int8/);
  });
});
