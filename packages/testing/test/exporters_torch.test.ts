import { describe, expect, it } from 'vitest';
import { type Model, checkModel, normalizeModel } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { createOrtRunner } from '@whittle/eval/node';
import { Rng } from '@whittle/tensor';
import { MOBILENET_V2_SETTING, makeDivisible, torchScope, torchTransformerEncoder, torchvisionMobilenetV2, torchvisionResnet18 } from '../src/exporters/index.js';

/** Elements of float32 initializers (the trainable parameters; Constant nodes are not counted). */
function floatParams(m: Model): number {
  let n = 0;
  for (const t of m.graph.initializers.values()) if (t.dtype === 'float32') n += t.size;
  return n;
}

async function run(m: Model, feeds: Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const r = await createOrtRunner(writeModel(m), { intraOpNumThreads: 1 });
  try {
    return await r.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v.data, dims: v.dims, type: v.data instanceof BigInt64Array ? 'int64' : 'float32' }])));
  } finally {
    await r.release();
  }
}

function image(n: number, h: number, w: number, seed = 1): { data: Float32Array; dims: number[] } {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: n * 3 * h * w }, () => rng.normal()), dims: [n, 3, h, w] };
}

function finite(a: Float32Array): boolean {
  return a.every((v) => Number.isFinite(v));
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

// BatchNorm channels of torchvision resnet18: bn1 64; layer1 4×64; layer2 4×128 + downsample 128;
// layer3 5×256; layer4 5×512
const RESNET18_BN_CHANNELS = 64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512;
const RESNET18_PARAMS = 11_689_512; // torchvision, BN weight+bias included, running stats not

function mobilenetV2BnChannels(): number {
  let c = 32;
  let inp = 32;
  for (const [t, out, n] of MOBILENET_V2_SETTING) {
    for (let i = 0; i < n; i++) {
      const hidden = inp * t;
      c += (t !== 1 ? hidden : 0) + hidden + out;
      inp = out;
    }
  }
  return c + 1280;
}
const MOBILENET_V2_PARAMS = 3_504_872;

describe('exporter-style torchvision fixtures', () => {
  it('torch scope names', () => {
    expect(torchScope('features.2.conv.0.0')).toBe('/features/features.2/conv/conv.0/conv.0.0');
    expect(torchScope('layer1.0.downsample.0')).toBe('/layer1/layer1.0/downsample/downsample.0');
    expect(makeDivisible(32 * 0.5)).toBe(16);
    expect(makeDivisible(24 * 0.35)).toBe(8);
  });

  it('resnet18 (BN folded): torchvision topology and parameter count, runs in ORT with finite outputs', async () => {
    const m = torchvisionResnet18({ seed: 1, height: 64, width: 64 });
    expect(checkModel(m)).toEqual([]);
    // folding replaces BN's weight+bias by one conv bias per channel
    expect(floatParams(m)).toBe(RESNET18_PARAMS - RESNET18_BN_CHANNELS);
    const nodes = m.graph.nodes;
    const count = (op: string): number => nodes.filter((n) => n.opType === op).length;
    expect(count('Conv')).toBe(20);
    expect(count('Add')).toBe(8);
    expect(count('Relu')).toBe(17);
    expect(count('Identity')).toBeGreaterThan(0);
    expect(count('BatchNormalization')).toBe(0);
    const names = new Set(nodes.map((n) => n.name));
    for (const n of ['/conv1/Conv', '/layer1/layer1.0/conv1/Conv', '/layer1/layer1.0/Add', '/layer1/layer1.0/relu/Relu', '/layer1/layer1.0/relu_1/Relu', '/layer2/layer2.0/downsample/downsample.0/Conv', '/avgpool/GlobalAveragePool', '/Flatten', '/fc/Gemm']) expect(names.has(n), n).toBe(true);
    expect(m.graph.initializers.has('onnx::Conv_193')).toBe(true);
    expect(m.graph.initializers.has('fc.weight')).toBe(true);
    expect(m.graph.inputs[0]!.type).toMatchObject({ shape: ['batch_size', 3, 64, 64] });
    const out = await run(m, { input: image(2, 64, 64) });
    expect(out.output!.dims).toEqual([2, 1000]);
    expect(finite(out.output!.data)).toBe(true);
    expect(maxAbs(out.output!.data)).toBeLessThan(1e3);
    expect(maxAbs(out.output!.data)).toBeGreaterThan(1e-3);
  }, 60_000);

  it('resnet18 (BN unfolded): Conv without bias + BatchNormalization, normalize folds it back to the same function', async () => {
    const m = torchvisionResnet18({ seed: 2, height: 32, width: 32, foldedBn: false, identityWeights: false });
    expect(checkModel(m)).toEqual([]);
    // BN keeps weight, bias and the two running statistics
    expect(floatParams(m)).toBe(RESNET18_PARAMS + 2 * RESNET18_BN_CHANNELS);
    expect(m.graph.nodes.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(20);
    expect(m.graph.nodes.find((n) => n.name === '/layer1/layer1.0/bn1/BatchNormalization')).toBeDefined();
    expect(m.graph.initializers.has('layer1.0.bn1.running_var')).toBe(true);
    const x = image(1, 32, 32, 3);
    const a = await run(m, { input: x });
    const { model: n } = await normalizeModel(m);
    expect(n.graph.nodes.filter((k) => k.opType === 'BatchNormalization')).toHaveLength(0);
    const b = await run(n, { input: x });
    expect(finite(a.output!.data)).toBe(true);
    const scale = maxAbs(a.output!.data);
    for (let i = 0; i < 1000; i++) expect(Math.abs(a.output!.data[i]! - b.output!.data[i]!)).toBeLessThan(1e-4 * scale + 1e-5);
  }, 60_000);

  it('mobilenet_v2: torchvision parameter count, depthwise convs, ReLU6 as Clip with Constant min/max, runs in ORT', async () => {
    const bn = mobilenetV2BnChannels();
    const unfolded = torchvisionMobilenetV2({ seed: 1, height: 32, widthPx: 32, foldedBn: false });
    expect(floatParams(unfolded)).toBe(MOBILENET_V2_PARAMS + 2 * bn);
    const m = torchvisionMobilenetV2({ seed: 1, height: 64, widthPx: 64 });
    expect(checkModel(m)).toEqual([]);
    expect(floatParams(m)).toBe(MOBILENET_V2_PARAMS - bn);
    const convs = m.graph.nodes.filter((n) => n.opType === 'Conv');
    expect(convs).toHaveLength(52);
    const depthwise = convs.filter((n) => n.attributes.get('group')?.value !== 1);
    expect(depthwise).toHaveLength(17);
    for (const d of depthwise) expect(m.graph.initializers.get(d.inputs[1]!)!.shape[1]).toBe(1);
    expect(m.graph.nodes.filter((n) => n.opType === 'Add')).toHaveLength(10);
    const clips = m.graph.nodes.filter((n) => n.opType === 'Clip');
    expect(clips).toHaveLength(35);
    const producers = new Map(m.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    for (const c of clips) expect(c.inputs.slice(1).map((i) => producers.get(i)?.opType)).toEqual(['Constant', 'Constant']);
    expect(m.graph.nodes.some((n) => n.name === '/features/features.2/conv/conv.1/conv.1.0/Conv')).toBe(true);
    const out = await run(m, { input: image(2, 64, 64) });
    expect(out.output!.dims).toEqual([2, 1000]);
    expect(finite(out.output!.data)).toBe(true);
    expect(maxAbs(out.output!.data)).toBeGreaterThan(1e-3);
    const half = torchvisionMobilenetV2({ seed: 1, width: 0.5, height: 32, widthPx: 32 });
    const o2 = await run(half, { input: image(1, 32, 32) });
    expect(o2.output!.dims).toEqual([1, 1000]);
    expect(finite(o2.output!.data)).toBe(true);
  }, 60_000);
});

describe('exporter-style transformer encoder', () => {
  const D = 64;
  const F = 128;
  const L = 2;
  // per layer: Q, K, V, output projections (D×D + D), FFN (D×F + F, F×D + D), two LayerNorms (2·D each)
  const perLayer = 4 * (D * D + D) + (D * F + F) + (F * D + D) + 2 * 2 * D;

  it('float input, dynamic head shapes: opset 14 decomposition, parameter count, runs in ORT at two sequence lengths', async () => {
    const m = torchTransformerEncoder({ seed: 1, layers: L, dModel: D, heads: 4, ffn: F });
    expect(checkModel(m)).toEqual([]);
    expect(m.opsetImports).toEqual([{ domain: '', version: 14 }]);
    expect(floatParams(m)).toBe(L * perLayer);
    const ops = new Set(m.graph.nodes.map((n) => n.opType));
    for (const op of ['MatMul', 'Reshape', 'Transpose', 'Softmax', 'Shape', 'Gather', 'Unsqueeze', 'Concat', 'ReduceMean', 'Pow', 'Sqrt', 'Erf']) expect(ops.has(op), op).toBe(true);
    expect(ops.has('LayerNormalization')).toBe(false);
    expect(m.graph.nodes.some((n) => n.name === '/encoder/layer.0/attention/self/query/MatMul')).toBe(true);
    const w = m.graph.nodes.find((n) => n.name === '/encoder/layer.0/intermediate/dense/MatMul')!;
    expect(m.graph.initializers.get(w.inputs[1]!)!.shape).toEqual([D, F]);
    for (const S of [5, 9]) {
      const rng = new Rng(S);
      const out = await run(m, { src: { data: Float32Array.from({ length: 2 * S * D }, () => rng.normal()), dims: [2, S, D] } });
      const y = out.last_hidden_state!;
      expect(y.dims).toEqual([2, S, D]);
      expect(finite(y.data)).toBe(true);
      // post-norm: every token is normalized (mean ≈ beta mean, not exploding)
      expect(maxAbs(y.data)).toBeLessThan(20);
    }
  }, 60_000);

  it('token ids with position embeddings and constant head shapes', async () => {
    const m = torchTransformerEncoder({ seed: 2, layers: 1, dModel: 32, heads: 2, ffn: 64, vocab: 50, maxPositions: 16, shapes: 'constant' });
    expect(checkModel(m)).toEqual([]);
    const per = 4 * (32 * 32 + 32) + (32 * 64 + 64) + (64 * 32 + 32) + 4 * 32;
    expect(floatParams(m)).toBe(per + 50 * 32 + 16 * 32 + 2 * 32);
    const ids = BigInt64Array.from([1, 7, 3, 49, 0, 2, 2, 5], (v) => BigInt(v));
    const out = await run(m, { input_ids: { data: ids, dims: [2, 4] } });
    expect(out.last_hidden_state!.dims).toEqual([2, 4, 32]);
    expect(finite(out.last_hidden_state!.data)).toBe(true);
  }, 60_000);
});
