import { type Model, type Node, cloneModel, normalizeModel, runPass, summarize } from '@whittle/graph';
import { torchTransformerEncoder, torchvisionMobilenetV2, torchvisionResnet18 } from '@whittle/testing/exporters';
import { describe, expect, it } from 'vitest';
import { Rng, diff, randn, runOrt, t } from './helpers.js';

interface LayerReport { node: string; channelsBefore: number; channelsAfter: number; removed: number[] }
interface HeadReport { softmax: string; heads: number; removed: number[] }
interface ClusterReport { producers: string[]; removed: number; reasons?: string[] }

/**
 * The reference for structured surgery: the original model with the removed channels zeroed
 * (producer rows and biases, depthwise filters and biases that follow them) and the removed
 * heads' value columns and output-projection rows zeroed. Removing a channel whose activation is
 * exactly zero everywhere must not change the output, so the pruned model must match this.
 */
async function maskedReference(model: Model, layers: LayerReport[], heads: HeadReport[]): Promise<Model> {
  const m = cloneModel(model);
  const g = m.graph;
  const producerOf = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const consumersOf = (v: string): Node[] => g.nodes.filter((n) => n.inputs.includes(v));
  const zero = async (name: string, axis: number, idx: readonly number[], block = 1): Promise<void> => {
    const w = g.initializers.get(name)!;
    const v = Float32Array.from((await w.data()) as Float32Array);
    const shape = w.shape;
    let post = 1;
    for (let i = axis + 1; i < shape.length; i++) post *= shape[i]!;
    const len = shape[axis]!;
    const pre = v.length / (len * post);
    for (let p = 0; p < pre; p++) for (const c of idx) for (let b = 0; b < block; b++) v.fill(0, ((p * len) + c * block + b) * post, ((p * len) + c * block + b + 1) * post);
    g.initializers.set(name, t(v, [...shape]));
  };
  const removedOf = new Map<string, number[]>();
  for (const l of layers) {
    if (!l.removed.length) continue;
    const n = g.nodes.find((x) => x.name === l.node)!;
    removedOf.set(n.outputs[0]!, l.removed);
    if (n.opType === 'Conv') {
      await zero(n.inputs[1]!, 0, l.removed);
      if (n.inputs[2]) await zero(n.inputs[2], 0, l.removed);
    } else {
      const transB = n.attributes.get('transB')?.value === 1;
      await zero(n.inputs[1]!, transB ? 0 : 1, l.removed);
      const bias = n.opType === 'Gemm' ? n.inputs[2] : consumersOf(n.outputs[0]!).find((c) => c.opType === 'Add')?.inputs.find((i) => g.initializers.has(i));
      if (bias) await zero(bias, g.initializers.get(bias)!.rank - 1, l.removed);
    }
  }
  // depthwise convs carry their producer's channels (through activations): zero filter and bias too
  for (const n of g.nodes.filter((x) => x.opType === 'Conv' && x.attributes.get('group')?.value !== 1 && x.attributes.get('group') !== undefined)) {
    let src = n.inputs[0]!;
    while (producerOf.get(src) && ['Clip', 'Relu'].includes(producerOf.get(src)!.opType)) src = producerOf.get(src)!.inputs[0]!;
    const idx = removedOf.get(src);
    if (!idx) continue;
    await zero(n.inputs[1]!, 0, idx);
    if (n.inputs[2]) await zero(n.inputs[2], 0, idx);
    removedOf.set(n.outputs[0]!, idx);
  }
  for (const h of heads) {
    if (!h.removed.length) continue;
    // Softmax → MatMul(probs, V) → … → Reshape → output projection MatMul
    const sm = g.nodes.find((x) => x.name === h.softmax)!;
    let v = consumersOf(sm.outputs[0]!)[0]!.outputs[0]!;
    for (;;) {
      const c = consumersOf(v)[0]!;
      v = c.outputs[0]!;
      if (c.opType === 'Reshape') break;
    }
    const out = consumersOf(v)[0]!;
    const w = g.initializers.get(out.inputs[1]!)!;
    const dh = w.shape[0]! / h.heads;
    await zero(out.inputs[1]!, 0, h.removed, dh);
  }
  return m;
}

function image(n: number, size: number, seed: number): { data: Float32Array; shape: number[] } {
  return { data: randn(new Rng(seed), n * 3 * size * size), shape: [n, 3, size, size] };
}

describe('prune-structured on exporter-style torch models', () => {
  it('torchvision resnet18 (normalized): sparsity 0.25 removes >= 20 % of the parameters, residual groups share masks, ORT output equals the masked original', async () => {
    const { model } = await normalizeModel(torchvisionResnet18({ seed: 3, height: 64, width: 64 }));
    const r = await runPass('prune-structured', model, { sparsity: 0.25, compensateBias: false });
    expect(r.report.changed).toBe(true);
    const before = summarize(model).parameters;
    const after = summarize(r.model).parameters;
    expect(1 - after / before).toBeGreaterThanOrEqual(0.2);
    expect(r.report.stats!.parametersAfter).toBe(after);
    const d = r.report.details as { layers: LayerReport[]; clusters: ClusterReport[] };
    // every block of a stage writes into one residual stream: conv2, downsample and the stage input share one mask
    const l = (name: string): LayerReport => d.layers.find((x) => x.node === name)!;
    for (const stage of [2, 3, 4]) {
      const ds = l(`/layer${stage}/layer${stage}.0/downsample/downsample.0/Conv`);
      expect(ds.removed.length).toBeGreaterThan(0);
      expect(l(`/layer${stage}/layer${stage}.0/conv2/Conv`).removed).toEqual(ds.removed);
      expect(l(`/layer${stage}/layer${stage}.1/conv2/Conv`).removed).toEqual(ds.removed);
    }
    expect(l('/conv1/Conv').removed).toEqual(l('/layer1/layer1.1/conv2/Conv').removed);
    // the classifier keeps its 1000 outputs, and says why
    const fc = d.clusters.find((c) => c.producers.includes('/fc/Gemm'))!;
    expect(fc.removed).toBe(0);
    expect(fc.reasons!.join(' ')).toMatch(/graph output/);
    // the Gemm's input columns shrank with the last stage
    const fcW = r.model.graph.nodes.find((n) => n.name === '/fc/Gemm')!.inputs[1]!;
    expect(r.model.graph.initializers.get(fcW)!.shape).toEqual([1000, 512 - l('/layer4/layer4.1/conv2/Conv').removed.length]);
    const x = { input: image(2, 64, 5) };
    const pruned = await runOrt(r.model, x);
    expect(pruned.dims.output).toEqual([2, 1000]);
    const ref = await runOrt(await maskedReference(model, d.layers, []), x);
    expect(diff(pruned.outputs.output!, ref.outputs.output!).rel).toBeLessThan(1e-4);
  }, 120_000);

  it('torchvision resnet18 as exported (Identity-routed weights, BatchNorm nodes, no normalize) still prunes across the residual adds', async () => {
    const model = torchvisionResnet18({ seed: 4, height: 32, width: 32, foldedBn: false });
    const r = await runPass('prune-structured', model, { sparsity: 0.25 });
    const d = r.report.details as { layers: LayerReport[] };
    const ds = d.layers.find((x) => x.node === '/layer2/layer2.0/downsample/downsample.0/Conv')!;
    expect(ds.removed.length).toBe(32);
    expect(1 - r.report.stats!.parametersAfter! / r.report.stats!.parametersBefore!).toBeGreaterThan(0.2);
    const out = await runOrt(r.model, { input: image(1, 32, 6) });
    expect(out.dims.output).toEqual([1, 1000]);
    expect(out.outputs.output!.every(Number.isFinite)).toBe(true);
  }, 120_000);

  it('torchvision mobilenet_v2: channels removed across expansion, depthwise (group shrinks) and projection; output equals the masked original', async () => {
    const { model } = await normalizeModel(torchvisionMobilenetV2({ seed: 2, width: 0.5, height: 32, widthPx: 32 }));
    const r = await runPass('prune-structured', model, { sparsity: 0.25, compensateBias: false });
    expect(r.report.changed).toBe(true);
    const dwName = '/features/features.2/conv/conv.1/conv.1.0/Conv';
    const dwBefore = model.graph.nodes.find((n) => n.name === dwName)!;
    const dwAfter = r.model.graph.nodes.find((n) => n.name === dwName)!;
    const groupBefore = dwBefore.attributes.get('group')!.value as number;
    const groupAfter = dwAfter.attributes.get('group')!.value as number;
    expect(groupAfter).toBe(groupBefore - Math.floor(groupBefore * 0.25));
    expect(r.model.graph.initializers.get(dwAfter.inputs[1]!)!.shape).toEqual([groupAfter, 1, 3, 3]);
    const d = r.report.details as { layers: LayerReport[] };
    expect(d.layers.find((l) => l.node === '/features/features.2/conv/conv.0/conv.0.0/Conv')!.removed.length).toBe(groupBefore - groupAfter);
    const x = { input: image(2, 32, 7) };
    const pruned = await runOrt(r.model, x);
    expect(pruned.dims.output).toEqual([2, 1000]);
    const ref = await runOrt(await maskedReference(model, d.layers, []), x);
    expect(diff(pruned.outputs.output!, ref.outputs.output!).rel).toBeLessThan(1e-4);
  }, 120_000);

  for (const shapes of ['dynamic', 'constant'] as const) {
    it(`transformer encoder (${shapes} head shapes): whole heads and FFN neurons removed, d_model kept, output equals the masked original`, async () => {
      const { model } = await normalizeModel(torchTransformerEncoder({ seed: 5, layers: 2, dModel: 64, heads: 4, ffn: 128, shapes }));
      const r = await runPass('prune-structured', model, { sparsity: 0.25 });
      const d = r.report.details as { layers: LayerReport[]; heads: HeadReport[]; clusters: ClusterReport[] };
      expect(d.heads).toHaveLength(2);
      for (const h of d.heads) {
        expect(h.heads).toBe(4);
        expect(h.removed).toHaveLength(1);
      }
      expect(r.report.stats!.headsRemoved).toBe(2);
      for (const layer of [0, 1]) {
        const fc1 = d.layers.find((l) => l.node === `/encoder/layer.${layer}/intermediate/dense/MatMul`)!;
        expect(fc1.removed).toHaveLength(32);
        const fc2 = r.model.graph.nodes.find((n) => n.name === `/encoder/layer.${layer}/output/dense/MatMul`)!;
        expect(r.model.graph.initializers.get(fc2.inputs[1]!)!.shape).toEqual([96, 64]);
        const q = r.model.graph.nodes.find((n) => n.name === `/encoder/layer.${layer}/attention/self/query/MatMul`)!;
        expect(r.model.graph.initializers.get(q.inputs[1]!)!.shape).toEqual([64, 48]);
        // residual-stream width is not pruned
        const o = d.layers.find((l) => l.node === `/encoder/layer.${layer}/attention/output/dense/MatMul`)!;
        expect(o.removed).toEqual([]);
      }
      for (const S of [3, 6]) {
        const x = { src: { data: randn(new Rng(S), 2 * S * 64), shape: [2, S, 64] } };
        const pruned = await runOrt(r.model, x);
        expect(pruned.dims.last_hidden_state).toEqual([2, S, 64]);
        const ref = await runOrt(await maskedReference(model, d.layers, d.heads), x);
        expect(diff(pruned.outputs.last_hidden_state!, ref.outputs.last_hidden_state!).rel).toBeLessThan(1e-4);
      }
    }, 60_000);
  }

  it('nothing prunable: changed false with the reason per group', async () => {
    const { model } = await normalizeModel(torchTransformerEncoder({ seed: 6, layers: 1, dModel: 16, heads: 2, ffn: 8 }));
    const r = await runPass('prune-structured', model, { sparsity: 0.1 });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/nothing removed/);
    expect((r.report.details as { reason: string }).reason).toMatch(/rounds to 0/);
    const d = r.report.details as { clusters: ClusterReport[]; heads: { reason?: string }[] };
    expect(d.clusters.every((c) => c.removed === 0 && c.reasons!.length > 0)).toBe(true);
    expect(d.heads[0]!.reason).toMatch(/sparsity 0.1 of 2 heads rounds to 0/);
  }, 30_000);
});
