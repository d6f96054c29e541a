import { describe, expect, it } from 'vitest';
import { type Model, graphScopes, normalizeModel } from '@whittle/graph';
import { createOrtRunner, type OrtFeed, type OrtOutput } from '@whittle/eval/node';
import { Rng } from '@whittle/tensor';
import { optimumDecoder, paddleOcrStyle, tf2onnxConvNet } from '../src/exporters/index.js';

async function run(m: Model, feeds: Record<string, OrtFeed>): Promise<Record<string, OrtOutput>> {
  const r = await createOrtRunner(m);
  try {
    return await r.run(feeds);
  } finally {
    await r.release();
  }
}

function randomInput(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

const finite = (a: Float32Array): boolean => a.every((v) => Number.isFinite(v));
const ops = (m: Model): string[] => graphScopes(m.graph).flatMap((s) => s.graph.nodes.map((n) => n.opType));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('tf2onnxConvNet', () => {
  const m = tf2onnxConvNet({ seed: 1 });
  it('has the tf2onnx layout: NHWC input, Transposes around the convolutions, an HWIO weight behind a Transpose', () => {
    const g = m.graph;
    expect(m.opsetImports[0]!.version).toBe(13);
    expect(g.inputs[0]!.name).toBe('input_1');
    const perms = g.nodes.filter((n) => n.opType === 'Transpose').map((n) => n.attributes.get('perm')!.value);
    expect(perms).toEqual([[0, 3, 1, 2], [3, 2, 0, 1], [0, 2, 3, 1]]);
    const weightT = g.nodes.find((n) => n.opType === 'Transpose' && g.initializers.has(n.inputs[0]!))!;
    expect(g.initializers.get(weightT.inputs[0]!)!.shape).toEqual([3, 3, 16, 32]);
    expect(g.nodes.map((n) => n.name)).toContain('model/conv2d/Conv2D');
    expect(g.nodes.filter((n) => n.opType === 'MatMul').every((n) => g.initializers.get(n.inputs[1]!)!.rank === 2)).toBe(true);
    for (const op of ['Conv', 'Relu', 'LeakyRelu', 'MaxPool', 'Reshape', 'Add', 'Softmax']) expect(ops(m)).toContain(op);
  });

  it('runs in onnxruntime-node (softmax rows), and normalizeModel folds the HWIO Transpose without changing the output', async () => {
    const x = { data: randomInput(2, 2 * 16 * 16 * 3), dims: [2, 16, 16, 3] };
    const y = (await run(m, { input_1: x }))['dense_1']!;
    expect(y.dims).toEqual([2, 10]);
    expect(finite(y.data)).toBe(true);
    for (let r = 0; r < 2; r++) expect(y.data.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const n = (await normalizeModel(m)).model;
    expect(n.graph.nodes.filter((k) => k.opType === 'Transpose' && n.graph.initializers.has(k.inputs[0]!))).toHaveLength(0);
    const y2 = (await run(n, { input_1: x }))['dense_1']!;
    expect(maxAbsDiff(y2.data, y.data)).toBeLessThan(1e-5);
  });
});

describe('paddleOcrStyle', () => {
  for (const opset of [11, 9] as const) {
    it(`opset ${opset}: every weight is a Constant node, and the model runs in onnxruntime-node`, async () => {
      const m = paddleOcrStyle({ seed: 3, opset });
      const g = m.graph;
      expect(g.initializers.size).toBe(0);
      const constants = g.nodes.filter((n) => n.opType === 'Constant');
      expect(constants.map((n) => n.outputs[0])).toEqual(expect.arrayContaining(['conv2d_0.w_0', 'batch_norm_0.w_2', 'linear_0.w_0', 'conv2d_transpose_0.w_0']));
      const used = ops(m);
      for (const op of ['Conv', 'BatchNormalization', 'Clip', 'Div', 'Mul', 'ConvTranspose', 'Sigmoid', 'MatMul', 'Slice', opset === 11 ? 'Resize' : 'Upsample']) expect(used).toContain(op);
      const clips = g.nodes.filter((n) => n.opType === 'Clip');
      const slice = g.nodes.find((n) => n.opType === 'Slice')!;
      if (opset === 11) {
        expect(clips.every((n) => n.inputs.length === 3 && !n.attributes.has('min'))).toBe(true);
        expect(slice.inputs).toHaveLength(4);
        expect(g.nodes.find((n) => n.opType === 'Resize')!.inputs).toHaveLength(3);
      } else {
        expect(clips.every((n) => n.inputs.length === 1 && n.attributes.has('max'))).toBe(true);
        expect(slice.attributes.get('ends')!.value).toEqual([4]);
      }
      const mm = g.nodes.find((n) => n.opType === 'MatMul')!;
      expect(constants.some((c) => c.outputs[0] === mm.inputs[1])).toBe(true);

      const out = await run(m, { x: { data: randomInput(4, 2 * 3 * 32 * 32), dims: [2, 3, 32, 32] } });
      const det = out['sigmoid_0.tmp_0']!;
      const cls = out['softmax_0.tmp_0']!;
      expect(det.dims).toEqual([2, 1, 32, 32]);
      expect(cls.dims).toEqual([2, 4]);
      expect(finite(det.data) && finite(cls.data)).toBe(true);
      expect(det.data.every((v) => v > 0 && v < 1)).toBe(true);
      // not saturated: the weights have a sensible scale
      expect(Math.max(...det.data) - Math.min(...det.data)).toBeGreaterThan(0.01);
      expect(cls.data[0]! + cls.data[1]! + cls.data[2]! + cls.data[3]!).toBeCloseTo(1, 5);
    });
  }
});

describe('optimumDecoder', () => {
  const layers = 2;
  const heads = 4;
  const dh = 16;
  const m = optimumDecoder({ seed: 5 });
  const ids = [3, 17, 200, 42, 9];
  const feeds = (tokens: number[], past: Float32Array[] | null, pastLen: number, useCache: boolean): Record<string, OrtFeed> => {
    const f: Record<string, OrtFeed> = {
      input_ids: { data: BigInt64Array.from(tokens.map(BigInt)), dims: [1, tokens.length] },
      attention_mask: { data: new BigInt64Array(pastLen + tokens.length).fill(1n), dims: [1, pastLen + tokens.length] },
      use_cache_branch: { data: Uint8Array.of(useCache ? 1 : 0), dims: [1], type: 'bool' },
    };
    for (let i = 0; i < layers; i++) {
      for (const [j, kind] of ['key', 'value'].entries()) {
        f[`past_key_values.${i}.${kind}`] = { data: past ? past[2 * i + j]! : new Float32Array(0), dims: [1, heads, pastLen, dh] };
      }
    }
    return f;
  };

  it('has the merged-decoder interface: one If on use_cache_branch, weights shared by both branches, tied embedding', () => {
    const g = m.graph;
    expect(g.nodes).toHaveLength(1);
    expect(g.nodes[0]!.opType).toBe('If');
    expect(g.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value', 'use_cache_branch']);
    expect(g.outputs.map((v) => v.name)).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    const scopes = graphScopes(g);
    expect(scopes.map((s) => s.path)).toEqual(['', 'optimum::if/then_branch', 'optimum::if/else_branch']);
    for (const s of scopes.slice(1)) {
      expect(s.graph.initializers.size).toBe(0);
      const wteReaders = s.graph.nodes.filter((n) => n.inputs.includes('transformer.wte.weight')).map((n) => n.opType).sort();
      expect(wteReaders).toEqual(['Gather', 'Transpose']);
      expect(s.graph.nodes.filter((n) => n.opType === 'MatMul' && g.initializers.has(n.inputs[1]!))).toHaveLength(4 * layers);
      expect(s.graph.nodes.some((n) => n.opType === 'Gemm')).toBe(false);
    }
  });

  it('runs in onnxruntime-node both ways, and decoding with past equals decoding the whole sequence', async () => {
    const full = await run(m, feeds(ids, null, 0, false));
    expect(full['logits']!.dims).toEqual([1, 5, 256]);
    expect(full['present.1.value']!.dims).toEqual([1, heads, 5, dh]);
    expect(finite(full['logits']!.data)).toBe(true);
    const prefix = await run(m, feeds(ids.slice(0, 4), null, 0, false));
    const past = ['present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'].map((k) => prefix[k]!.data);
    const step = await run(m, feeds(ids.slice(4), past, 4, true));
    expect(step['logits']!.dims).toEqual([1, 1, 256]);
    expect(step['present.0.key']!.dims).toEqual([1, heads, 5, dh]);
    const last = full['logits']!.data.slice(4 * 256);
    expect(maxAbsDiff(step['logits']!.data, last)).toBeLessThan(1e-4);
    expect(maxAbsDiff(step['present.1.key']!.data, full['present.1.key']!.data)).toBeLessThan(1e-5);
    // causal: the first position's logits do not depend on later tokens
    expect(maxAbsDiff(prefix['logits']!.data.slice(0, 256), full['logits']!.data.slice(0, 256))).toBeLessThan(1e-5);
    // the logits are not degenerate
    expect(Math.max(...last) - Math.min(...last)).toBeGreaterThan(0.1);
  });
});
