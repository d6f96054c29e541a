import { describe, expect, it } from 'vitest';
import { type Model, normalizeModel, runPass } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import { ortSaturatesU8S8 } from '@whittle/testing';
import '../src/index.js';
import { ortOptimizedOps } from './ort_optimized.js';
import { mixedFeeds, mixedModel, ortRun } from './helpers.js';
import { resnetCnn } from './models.js';

const count = (c: Record<string, number>, k: string): number => c[k] ?? 0;
const LAYERS = 2;
const SEQ = 16;

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

async function encoder(): Promise<Model> {
  return (await normalizeModel(torchTransformerEncoder({ layers: LAYERS, dModel: 64, heads: 4, ffn: 128, vocab: 300, maxPositions: SEQ }))).model;
}

function idsFeed(batch: number): Record<string, { data: BigInt64Array; dims: number[] }> {
  const rng = new Rng(3);
  return { input_ids: { data: BigInt64Array.from({ length: batch * SEQ }, () => BigInt(rng.int(300))), dims: [batch, SEQ] } };
}

/**
 * Dynamic int8 → onnxruntime's optimized graph (CPU, extended): every weight MatMul must run as
 * DynamicQuantizeMatMul or MatMulIntegerToFloat (the bias Add folded into it), and the
 * embedding tables must not be dequantized whole (no DequantizeLinear left).
 */
describe('dynamic int8 is fused by onnxruntime (CPU) into DynamicQuantizeMatMul / MatMulIntegerToFloat', () => {
  for (const opts of [{}, { perChannel: true }, { weightType: 'uint8' }, { reduceRange: true, perChannel: true }] as const) {
    it(`BERT-style encoder ${JSON.stringify(opts)}: all 6 linear layers per block fused with their bias, tables gathered as int8 rows`, async () => {
      const model = await encoder();
      const r = await runPass('quantize-dynamic', model, opts);
      const mmi = r.model.graph.nodes.filter((n) => n.opType === 'MatMulInteger');
      expect(mmi).toHaveLength(6 * LAYERS);
      // weights use the whole 8-bit range, or 7 bits with reduceRange
      let lo = 0, hi = 0;
      for (const n of mmi) for (const v of (await r.model.graph.initializers.get(n.inputs[1]!)!.data()) as Int8Array | Uint8Array) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      if ('reduceRange' in opts) expect([lo, hi]).toEqual([-63, 63]);
      else expect(hi - lo).toBeGreaterThan(200);
      const ops = await ortOptimizedOps(r.model, 'extended');
      const fused = count(ops, 'com.microsoft:DynamicQuantizeMatMul') + count(ops, 'com.microsoft:MatMulIntegerToFloat');
      expect(fused, JSON.stringify(ops)).toBe(6 * LAYERS);
      for (const op of ['MatMulInteger', 'ConvInteger', 'DequantizeLinear']) expect(count(ops, op), `${op} in ${JSON.stringify(ops)}`).toBe(0);
      // left float: attention's activation × activation MatMuls only (2 per block, one may become FusedMatMul)
      expect(count(ops, 'MatMul') + count(ops, 'com.microsoft:FusedMatMul')).toBe(2 * LAYERS);
      // Adds left: the two residuals per block and the embedding sum; every bias Add is in a fused op
      expect(count(ops, 'Add'), JSON.stringify(ops)).toBe(2 * LAYERS + 1);
      // Q/K/V read one DynamicQuantizeLinear (activation quantized once per block)
      expect(count(ops, 'DynamicQuantizeLinear')).toBeLessThanOrEqual(LAYERS);
      expect(r.report.summary).toMatch(/2 Gather tables weight-only int8 per row \(2 dequantized after the Gather/);
      expect((r.report.warnings ?? []).join('\n')).not.toMatch(/ConvInteger/);
      const feeds = idsFeed(2);
      const ref = (await ortRun(model, feeds)).last_hidden_state!;
      const out = (await ortRun(r.model, feeds)).last_hidden_state!;
      expect(cosine(ref, out)).toBeGreaterThan(0.995);
    });
  }

  it('Gemm with bias (transB) and a Gather table read with MatMul: Gemm fused with the bias, gathered rows match the float table', async () => {
    const model = mixedModel();
    // full-range int8 weights saturate in onnxruntime on x86 without VNNI: 7 bits there
    const r = await runPass('quantize-dynamic', model, { perChannel: true, reduceRange: await ortSaturatesU8S8() });
    const ops = await ortOptimizedOps(r.model, 'extended');
    expect(count(ops, 'com.microsoft:DynamicQuantizeMatMul') + count(ops, 'com.microsoft:MatMulIntegerToFloat'), JSON.stringify(ops)).toBe(3);
    for (const op of ['MatMulInteger', 'Gemm', 'MatMul', 'DequantizeLinear']) expect(count(ops, op), `${op} in ${JSON.stringify(ops)}`).toBe(0);
    // one Add left: MatMul output + embedding (both Gemm biases fused)
    expect(count(ops, 'Add')).toBe(1);
    const feeds = mixedFeeds(16);
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const out = (await ortRun(r.model, feeds))[r.model.graph.outputs[0]!.name]!;
    expect(cosine(ref, out)).toBeGreaterThan(0.999);
  });

  it('conv network: ConvInteger stays unfused in onnxruntime, and the report says so and points to quantize-static', async () => {
    const r = await runPass('quantize-dynamic', resnetCnn(), {});
    const ops = await ortOptimizedOps(r.model, 'extended');
    const conv = r.model.graph.nodes.filter((n) => n.opType === 'ConvInteger').length;
    expect(conv).toBeGreaterThan(0);
    expect(count(ops, 'ConvInteger'), JSON.stringify(ops)).toBe(conv);
    expect(count(ops, 'DynamicQuantizeLinear')).toBeGreaterThanOrEqual(1);
    const details = r.report.details as { convInteger: { layers: number; weightShare: number } };
    expect(details.convInteger.layers).toBe(conv);
    expect(details.convInteger.weightShare).toBeGreaterThan(0.5);
    expect((r.report.warnings ?? []).join('\n')).toMatch(new RegExp(`${conv} Conv layers .* as ConvInteger: onnxruntime has no fused dynamic int8 conv kernel.*use quantize-static`));
  });
});
