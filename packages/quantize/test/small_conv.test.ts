/**
 * 4-bit weights on tiny convolution kernels (a MobileNetV3 text-direction classifier: 3×3
 * depthwise convs, reduction length 9): by default those stay int8 per channel and are reported,
 * which keeps the classifier's outputs where an all-4-bit grid flips them, at a size still >= 6x
 * the exported file's weights; `int8ConvBelow: 0` is all 4-bit.
 */
import { describe, expect, it } from 'vitest';
import { type Model, graphScopes, runPass, weightBytes as fileWeightBytes } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { CORPUS, corpusBytes } from '@whittle/testing/corpus';
import '../src/index.js';
import { corpusFeeds, corpusModel, cosine, ortOutputs } from './real_models.js';

const c = CORPUS.find((x) => x.id === 'ocr-cls')!;

/** Cosine of the concatenated outputs on three seeded text images (logits compared as given). */
async function agreement(a: Model, b: Model): Promise<number> {
  const ra: number[] = [];
  const rb: number[] = [];
  for (const seed of [1, 2, 3]) {
    const feeds = corpusFeeds(c, seed);
    for (const o of await ortOutputs(a, feeds)) for (const v of o) ra.push(Math.log(Math.max(v, 1e-7) / Math.max(1 - v, 1e-7)));
    for (const o of await ortOutputs(b, feeds)) for (const v of o) rb.push(Math.log(Math.max(v, 1e-7) / Math.max(1 - v, 1e-7)));
  }
  return cosine(ra, rb);
}

/** DequantizeLinear code tensors (any graph) by dtype. */
function codeTypes(m: Model): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of graphScopes(m.graph)) {
    for (const n of s.graph.nodes) {
      if (n.opType !== 'DequantizeLinear') continue;
      const t = s.graph.initializers.get(n.inputs[0]!);
      if (t) out[t.dtype] = (out[t.dtype] ?? 0) + 1;
    }
  }
  return out;
}

describe('int4 on small Conv kernels (ocr-cls, 3×3 depthwise)', () => {
  it('default: reduction length < 16 stays int8 (reported), fidelity far above all-4-bit, >= 6x the file weights', async () => {
    const m = await corpusModel('ocr-cls');
    const exported = readModel(corpusBytes(c));
    const [kept, all4] = [await runPass('quantize-weights', m, {}), await runPass('quantize-weights', m, { int8ConvBelow: 0 })];
    const keptInt8 = (kept.report.details as { keptInt8: string[] }).keptInt8;
    expect(keptInt8.length).toBeGreaterThan(5);
    expect(kept.report.summary).toMatch(new RegExp(`${keptInt8.length} small Conv weights kept int8 per channel \\(reduction length < 16\\)`));
    expect(codeTypes(kept.model).int8).toBe(keptInt8.length);
    expect(codeTypes(all4.model).int8 ?? 0).toBe(0);
    expect((all4.report.details as { keptInt8: string[] }).keptInt8).toEqual([]);
    const [a, b] = [await agreement(m, kept.model), await agreement(m, all4.model)];
    expect(a).toBeGreaterThan(0.85);
    expect(a).toBeGreaterThan(b + 0.2);
    expect(fileWeightBytes(exported) / fileWeightBytes(kept.model)).toBeGreaterThanOrEqual(6);
  });
});
