/**
 * Block-wise RTN asked of a model with convolutions: Conv weights have no block axis and get one
 * scale per output channel, and the summary says so instead of claiming blocks for every weight.
 */
import { describe, expect, it } from 'vitest';
import { runPass } from '@whittle/graph';
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
  });
});
