/**
 * Embedding tables on an Optimum-style decoder (token table tied with the LM head through a
 * Transpose, read from both If branches): dynamic int8 stores them as int8 rows, int4 as 4-bit
 * blocks, each table once, the tie reported; the default int4 block is 128 (shorter K: one block).
 */
import { describe, expect, it } from 'vitest';
import { type Model, graphScopes, runPass } from '@whittle/graph';
import { optimumDecoder } from '@whittle/testing/exporters';
import '../src/index.js';
import { type CorpusFeed, corpusFeeds, cosine, frontEnd, ortOutputs, weightBytes } from './real_models.js';

const kv = (name: string) => ({ name, type: 'float32' as const, dims: [1, 4, 3, 16] });
const INPUTS = [
  { name: 'input_ids', type: 'int64' as const, dims: [1, 4], kind: 'token-ids' as const, vocab: 256 },
  { name: 'attention_mask', type: 'int64' as const, dims: [1, 7], kind: 'ones' as const },
  kv('past_key_values.0.key'), kv('past_key_values.0.value'), kv('past_key_values.1.key'), kv('past_key_values.1.value'),
  { name: 'use_cache_branch', type: 'bool' as const, dims: [1], kind: 'ones' as const },
];

async function logitsCosine(a: Model, b: Model): Promise<number> {
  let worst = 1;
  for (const seed of [1, 2]) {
    const feeds: Record<string, CorpusFeed> = corpusFeeds({ inputs: INPUTS }, seed);
    const [ra, rb] = [await ortOutputs(a, feeds), await ortOutputs(b, feeds)];
    worst = Math.min(worst, cosine(ra[0]!, rb[0]!));
  }
  return worst;
}

/** Initializers (any graph) of `dtype` with the table's shape. */
function tables(m: Model, dtypes: string[], size: number): string[] {
  const out: string[] = [];
  for (const s of graphScopes(m.graph)) for (const [k, t] of s.graph.initializers) if (dtypes.includes(t.dtype) && t.size === size) out.push(k);
  return out;
}

describe('embedding tables (Optimum decoder, wte tied with the LM head)', () => {
  it('quantize-dynamic: Gather tables as int8 rows (DequantizeLinear axis 0), the tied table once, >= 3.5x', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 1 }));
    const r = await runPass('quantize-dynamic', m, {});
    expect(r.report.changed).toBe(true);
    // wte [256, 64] and wpe [128, 64] as int8, nothing left as float of their size
    expect(tables(r.model, ['int8'], 256 * 64).filter((k) => k.includes('wte'))).toHaveLength(1);
    expect(tables(r.model, ['int8'], 128 * 64).filter((k) => k.includes('wpe'))).toHaveLength(1);
    expect(tables(r.model, ['float32'], 256 * 64).filter((k) => k.includes('wte'))).toHaveLength(0);
    const dq = r.model.graph.nodes.find((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === 'transformer.wte.weight');
    expect(dq?.attributes.get('axis')?.value).toBe(0);
    expect(r.report.summary).toMatch(/2 Gather tables weight-only int8 per row/);
    expect(r.report.summary).toMatch(/tied: .*transformer\.wte\.weight also read by Transpose/);
    const layers = (r.report.details as { layers: { op: string; tiedWith?: string[] }[] }).layers;
    expect(layers.filter((l) => l.op === 'Gather' && l.tiedWith?.includes('Transpose')).length).toBeGreaterThan(0);
    expect(weightBytes(m) / weightBytes(r.model)).toBeGreaterThanOrEqual(3.5);
    expect(await logitsCosine(m, r.model)).toBeGreaterThan(0.999);
  });

  it('quantize-dynamic with ops without Gather leaves the tables float', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 1 }));
    const r = await runPass('quantize-dynamic', m, { ops: ['MatMul', 'Gemm', 'Conv'] });
    expect(tables(r.model, ['float32'], 256 * 64).filter((k) => k.includes('wte'))).toHaveLength(1);
    expect(weightBytes(m) / weightBytes(r.model)).toBeLessThan(3);
  });

  it('quantize-weights int4 (defaults): tables as 4-bit blocks, tied table once, block 64 for K = 64, >= 6x', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 1 }));
    const r = await runPass('quantize-weights', m, {});
    expect(r.report.summary).toMatch(/block 128, symmetric/);
    expect(tables(r.model, ['int4'], 256 * 64).filter((k) => k.includes('wte'))).toHaveLength(1);
    expect(tables(r.model, ['float32'], 256 * 64)).toHaveLength(0);
    expect((r.report.warnings ?? []).join('\n')).toMatch(/transformer\.wte\.weight: one quantized copy \(DequantizeLinear\) also read by Transpose/);
    // K = 64 < 128: the reduction dimension is one block (block_size 64, one scale per row)
    const dqs = graphScopes(r.model.graph).flatMap((s) => s.graph.nodes).filter((n) => n.opType === 'DequantizeLinear');
    const wte = dqs.find((n) => n.outputs[0] === 'transformer.wte.weight')!;
    expect(wte.attributes.get('block_size')?.value).toBe(64);
    const fc = dqs.find((n) => n.outputs[0] === 'transformer.h.0.mlp.c_proj.weight')!; // [256, 64]: K = 256
    expect(fc.attributes.get('block_size')?.value).toBe(128);
    expect(weightBytes(m) / weightBytes(r.model)).toBeGreaterThanOrEqual(6);
    expect(await logitsCosine(m, r.model)).toBeGreaterThan(0.98);
  });

  it('blockSize 32 stays available and is finer (more scales, more bytes)', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 1 }));
    const [b32, b128] = [await runPass('quantize-weights', m, { blockSize: 32 }), await runPass('quantize-weights', m, {})];
    expect(b32.report.summary).toMatch(/block 32/);
    expect(weightBytes(b32.model)).toBeGreaterThan(weightBytes(b128.model));
    expect(await logitsCosine(m, b32.model)).toBeGreaterThan(0.98);
  });
});
