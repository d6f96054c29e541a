import { GraphBuilder, type Model, checkModel, cloneModel, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, diff, randn, runOrt, t, values } from './helpers.js';

/** conv → relu → pool → conv(pad 1) → relu → flatten → gemm → relu → gemm (a small LeNet). */
function lenetLike(rng: Rng, dead: { conv1?: number[]; conv2?: number[]; fc1?: number[] } = {}): Model {
  const b = new GraphBuilder('lenet_like');
  const x = b.input('input', 'float32', ['N', 1, 12, 12]);
  const w1 = randn(rng, 6 * 9, 0.4);
  const b1 = randn(rng, 6, 0.1);
  const w2 = randn(rng, 8 * 6 * 9, 0.3);
  const b2 = randn(rng, 8, 0.1);
  const w3 = randn(rng, 32 * 200, 0.1);
  const b3 = randn(rng, 32, 0.1);
  const kill = (w: Float32Array, bias: Float32Array, rows: number[] | undefined): void => {
    const cols = w.length / bias.length;
    for (const r of rows ?? []) {
      w.fill(0, r * cols, (r + 1) * cols);
      bias[r] = -Math.abs(bias[r]!) - 0.05; // relu(negative) = 0: the channel is dead
    }
  };
  kill(w1, b1, dead.conv1);
  kill(w2, b2, dead.conv2);
  kill(w3, b3, dead.fc1);
  let h = b.node('Conv', [x, b.initializer('conv1.weight', t(w1, [6, 1, 3, 3])), b.initializer('conv1.bias', t(b1, [6]))], { kernel_shape: [3, 3] }, { name: 'conv1' });
  h = b.node('Relu', [h], {}, { name: 'relu1' });
  h = b.node('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1' });
  h = b.node('Conv', [h, b.initializer('conv2.weight', t(w2, [8, 6, 3, 3])), b.initializer('conv2.bias', t(b2, [8]))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv2' });
  h = b.node('Relu', [h], {}, { name: 'relu2' });
  h = b.node('Flatten', [h], { axis: 1 }, { name: 'flatten' });
  h = b.node('Gemm', [h, b.initializer('fc1.weight', t(w3, [32, 200])), b.initializer('fc1.bias', t(b3, [32]))], { transB: 1 }, { name: 'fc1' });
  h = b.node('Relu', [h], {}, { name: 'relu3' });
  h = b.node('Gemm', [h, b.initializer('fc2.weight', t(randn(rng, 10 * 32, 0.2), [10, 32])), b.initializer('fc2.bias', t(randn(rng, 10, 0.1), [10]))], { transB: 1 }, { name: 'fc2' });
  b.output(h, 'float32', ['N', 10]);
  return b.model();
}

/**
 * ResNet-style: stem conv-bn-relu, an identity block, a stride-2 block with a projection shortcut,
 * a depthwise conv-bn-relu, a Concat with a 1x1 side conv, global average pool, Flatten, Gemm.
 * `dead` zeroes BN scale and shift (or the side conv's rows) of the listed channels so that
 * removing exactly them leaves the output unchanged.
 */
function resnetLike(rng: Rng, dead?: { stage1: number[]; b1: number[]; stage2: number[]; b2: number[]; side: number[] }): Model {
  const b = new GraphBuilder('resnet_like');
  const x = b.input('input', 'float32', ['N', 3, 8, 8]);
  const conv = (name: string, inp: string, cin: number, cout: number, k: number, stride: number, group = 1): string =>
    b.node('Conv', [inp, b.initializer(`${name}.weight`, t(randn(rng, cout * (cin / group) * k * k, Math.sqrt(2 / (cin / group * k * k))), [cout, cin / group, k, k]))], {
      kernel_shape: [k, k], strides: [stride, stride], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], group,
    }, { name });
  const bn = (name: string, inp: string, c: number, zero: number[] = [], zeroShiftAll = false): string => {
    const gamma = Float32Array.from({ length: c }, () => 0.5 + rng.next());
    const beta = Float32Array.from({ length: c }, () => (zeroShiftAll ? 0 : rng.normal() * 0.1));
    const mean = Float32Array.from({ length: c }, () => (zeroShiftAll ? 0 : rng.normal() * 0.1));
    const vr = Float32Array.from({ length: c }, () => 0.5 + rng.next());
    for (const z of zero) gamma[z] = beta[z] = 0;
    return b.node('BatchNormalization', [inp, b.initializer(`${name}.scale`, t(gamma, [c])), b.initializer(`${name}.B`, t(beta, [c])), b.initializer(`${name}.mean`, t(mean, [c])), b.initializer(`${name}.var`, t(vr, [c]))], { epsilon: 1e-5 }, { name, floatAttrs: ['epsilon'] });
  };
  const relu = (inp: string): string => b.node('Relu', [inp]);
  const stem = relu(bn('stem.bn', conv('stem', x, 3, 8, 3, 1), 8, dead?.stage1));
  let h = relu(bn('b1.bn1', conv('b1.conv1', stem, 8, 8, 3, 1), 8, dead?.b1));
  h = bn('b1.bn2', conv('b1.conv2', h, 8, 8, 3, 1), 8, dead?.stage1);
  const s1 = relu(b.node('Add', [h, stem], {}, { name: 'b1.add' }));
  h = relu(bn('b2.bn1', conv('b2.conv1', s1, 8, 16, 3, 2), 16, dead?.b2));
  h = bn('b2.bn2', conv('b2.conv2', h, 16, 16, 3, 1), 16, dead?.stage2);
  const proj = bn('b2.proj_bn', conv('b2.proj', s1, 8, 16, 1, 2), 16, dead?.stage2);
  const s2 = relu(b.node('Add', [h, proj], {}, { name: 'b2.add' }));
  const dw = relu(bn('dw.bn', conv('dw', s2, 16, 16, 3, 1, 16), 16, [], !!dead));
  // side branch: 1x1 conv with bias, dead rows have zero weight and negative bias
  const sw = randn(rng, 8 * 16, 0.3);
  const sb = randn(rng, 8, 0.1);
  for (const r of dead?.side ?? []) {
    sw.fill(0, r * 16, (r + 1) * 16);
    sb[r] = -0.1;
  }
  const side = relu(b.node('Conv', [s2, b.initializer('side.weight', t(sw, [8, 16, 1, 1])), b.initializer('side.bias', t(sb, [8]))], { kernel_shape: [1, 1] }, { name: 'side' }));
  const cat = b.node('Concat', [dw, side], { axis: 1 }, { name: 'concat' });
  const gap = b.node('GlobalAveragePool', [cat], {}, { name: 'gap' });
  const flat = b.node('Flatten', [gap], { axis: 1 }, { name: 'flatten' });
  const out = b.node('Gemm', [flat, b.initializer('fc.weight', t(randn(rng, 10 * 24, 0.3), [10, 24])), b.initializer('fc.bias', t(randn(rng, 10, 0.1), [10]))], { transB: 1 }, { name: 'fc' });
  b.output(out, 'float32', ['N', 10]);
  return b.model();
}

const shapes = (m: Model): Record<string, number[]> => Object.fromEntries([...m.graph.initializers].map(([k, v]) => [k, [...v.shape]]));

describe('prune-structured', () => {
  it('removes dead LeNet channels exactly (conv → flatten → fc mapping), and ORT runs the smaller model', async () => {
    const rng = new Rng(1);
    const m = lenetLike(rng, { conv1: [0, 2, 5], conv2: [1, 2, 5, 6], fc1: Array.from({ length: 16 }, (_, i) => 2 * i + 1) });
    const before = shapes(m);
    const { model: out, report } = await runPass('prune-structured', m, { sparsity: 0.5, criterion: 'l1' });
    expect(shapes(m)).toEqual(before); // input untouched
    expect(checkModel(out)).toEqual([]);
    const s = shapes(out);
    expect(s['conv1.weight']).toEqual([3, 1, 3, 3]);
    expect(s['conv2.weight']).toEqual([4, 3, 3, 3]);
    expect(s['conv2.bias']).toEqual([4]);
    expect(s['fc1.weight']).toEqual([16, 100]);
    expect(s['fc2.weight']).toEqual([10, 16]);
    expect(report.stats!.flopsAfter).toBeLessThan(report.stats!.flopsBefore! * 0.4);
    const x = { input: { data: randn(new Rng(2), 3 * 144), shape: [3, 1, 12, 12] } };
    const a = await runOrt(m, x);
    const r = await runOrt(out, x);
    expect(r.dims[m.graph.outputs[0]!.name]).toEqual([3, 10]);
    const d = diff(r.outputs[m.graph.outputs[0]!.name]!, a.outputs[m.graph.outputs[0]!.name]!);
    expect(d.maxAbs).toBeLessThan(1e-4);
    expect(r.bytes.length).toBeLessThan(a.bytes.length * 0.4);
  });

  it('prunes a live LeNet by L2 norm: smaller shapes, ORT output close to the original, kept filters are the largest', async () => {
    const m = lenetLike(new Rng(3));
    const { model: out } = await runPass('prune-structured', m, { sparsity: 0.25, criterion: 'l2' });
    const s = shapes(out);
    expect(s['conv1.weight']).toEqual([5, 1, 3, 3]);
    expect(s['conv2.weight']).toEqual([6, 5, 3, 3]);
    expect(s['fc1.weight']).toEqual([24, 150]);
    // conv1's kept filters are the 5 with the largest L2 norms, in original order
    const w = await values(m, 'conv1.weight');
    const norms = Array.from({ length: 6 }, (_, r) => Math.hypot(...w.subarray(r * 9, r * 9 + 9)));
    const kept = [...norms.keys()].sort((a, b) => norms[b]! - norms[a]!).slice(0, 5).sort((a, b) => a - b);
    const got = await values(out, 'conv1.weight');
    kept.forEach((r, i) => expect(Array.from(got.subarray(i * 9, i * 9 + 9))).toEqual(Array.from(w.subarray(r * 9, r * 9 + 9))));
    const x = { input: { data: randn(new Rng(4), 2 * 144), shape: [2, 1, 12, 12] } };
    const o = m.graph.outputs[0]!.name;
    const r = await runOrt(out, x);
    expect(r.dims[o]).toEqual([2, 10]);
    expect(r.outputs[o]!.every(Number.isFinite)).toBe(true);
  });

  it('ResNet-style: residual groups, projection shortcut, BN, depthwise and concat are pruned consistently and exactly', async () => {
    const dead = { stage1: [0, 3, 5, 6], b1: [1, 2, 4, 7], stage2: [0, 2, 3, 7, 8, 11, 12, 15], b2: [1, 4, 5, 6, 9, 10, 13, 14], side: [0, 1, 4, 6] };
    const m = resnetLike(new Rng(5), dead);
    const { model: out, report } = await runPass('prune-structured', m, { sparsity: 0.5, criterion: 'bn-scale' });
    const s = shapes(out);
    expect(s['stem.weight']).toEqual([4, 3, 3, 3]);
    expect(s['b1.conv1.weight']).toEqual([4, 4, 3, 3]);
    expect(s['b1.conv2.weight']).toEqual([4, 4, 3, 3]);
    expect(s['b2.conv1.weight']).toEqual([8, 4, 3, 3]);
    expect(s['b2.conv2.weight']).toEqual([8, 8, 3, 3]);
    expect(s['b2.proj.weight']).toEqual([8, 4, 1, 1]);
    expect(s['dw.weight']).toEqual([8, 1, 3, 3]);
    expect(s['dw.bn.scale']).toEqual([8]);
    expect(s['side.weight']).toEqual([4, 8, 1, 1]);
    expect(s['fc.weight']).toEqual([10, 12]);
    expect(out.graph.nodes.find((n) => n.name === 'dw')!.attributes.get('group')).toEqual({ type: 'int', value: 8 });
    // the residual partners are one cluster
    const clusters = report.details!.clusters as { producers: string[] }[];
    expect(clusters.find((c) => c.producers.includes('stem'))!.producers.sort()).toEqual(['b1.conv2', 'stem']);
    expect(clusters.find((c) => c.producers.includes('b2.proj'))!.producers.sort()).toEqual(['b2.conv2', 'b2.proj']);
    const x = { input: { data: randn(new Rng(6), 2 * 3 * 64), shape: [2, 3, 8, 8] } };
    const o = m.graph.outputs[0]!.name;
    const a = await runOrt(m, x);
    const r = await runOrt(out, x);
    expect(r.dims[o]).toEqual([2, 10]);
    expect(diff(r.outputs[o]!, a.outputs[o]!).maxAbs).toBeLessThan(1e-4);
  });

  it('ResNet-style with live weights (L1): ORT runs it with the expected smaller shapes', async () => {
    const m = resnetLike(new Rng(7));
    const { model: out } = await runPass('prune-structured', m, { sparsity: 0.5 });
    const s = shapes(out);
    expect(s['stem.weight']![0]).toBe(4);
    expect(s['b2.proj.weight']).toEqual([8, 4, 1, 1]);
    expect(s['fc.weight']).toEqual([10, 12]);
    const x = { input: { data: randn(new Rng(8), 3 * 64), shape: [1, 3, 8, 8] } };
    const r = await runOrt(out, x);
    expect(r.dims[m.graph.outputs[0]!.name]).toEqual([1, 10]);
  });

  it("never prunes the graph output's channels; respects exclude and channelMultiple", async () => {
    const m = lenetLike(new Rng(9));
    // cut the model after conv2: conv2's output becomes the graph output
    const g = cloneModel(m);
    const relu2 = g.graph.nodes.findIndex((n) => n.name === 'relu2');
    g.graph.nodes = g.graph.nodes.slice(0, relu2 + 1);
    g.graph.outputs = [{ name: g.graph.nodes[relu2]!.outputs[0]!, type: { kind: 'tensor', elemType: 'float32', shape: ['N', 8, 5, 5] } }];
    for (const k of ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']) g.graph.initializers.delete(k);
    const { model: out } = await runPass('prune-structured', g, { sparsity: 0.5 });
    expect(shapes(out)['conv2.weight']).toEqual([8, 3, 3, 3]);
    expect(shapes(out)['conv1.weight']).toEqual([3, 1, 3, 3]);
    const r = await runOrt(out, { input: { data: randn(new Rng(1), 144), shape: [1, 1, 12, 12] } });
    expect(r.dims[g.graph.outputs[0]!.name]).toEqual([1, 8, 5, 5]);
    const { model: ex } = await runPass('prune-structured', m, { sparsity: 0.5, exclude: ['conv1'], channelMultiple: 4 });
    expect(shapes(ex)['conv1.weight']).toEqual([6, 1, 3, 3]);
    expect(shapes(ex)['fc1.weight']).toEqual([16, 100]);
    expect(shapes(ex)['conv2.weight']).toEqual([4, 6, 3, 3]);
    await expect(runPass('prune-structured', m, { sparsity: 0.5, typo: 1 })).rejects.toThrow(/unknown option 'typo'/);
  });
});

describe('structured channel scores count the bias', () => {
  it('a channel of tiny weights but a large bias (a folded BatchNorm shift) stays; the small channel without one goes', async () => {
    const rng = new Rng(4);
    const b = new GraphBuilder('bias_channel');
    const x = b.input('input', 'float32', ['N', 1, 6, 6]);
    const w1 = randn(rng, 4 * 9, 1);
    for (let k = 0; k < 9; k++) {
      w1[k] = 1e-3; // channel 0: constant output relu(2) = 2 everywhere
      w1[9 + k] = 0.04 * Math.sign(w1[9 + k]!); // channel 1: small weights, no bias
    }
    const b1 = Float32Array.from([2, 0, 0.1, -0.1]);
    let h = b.node('Conv', [x, b.initializer('c1.weight', t(w1, [4, 1, 3, 3])), b.initializer('c1.bias', t(b1, [4]))], { kernel_shape: [3, 3] }, { name: 'c1' });
    h = b.node('Relu', [h], {}, { name: 'r1' });
    h = b.node('Conv', [h, b.initializer('c2.weight', t(randn(rng, 2 * 4, 0.5), [2, 4, 1, 1]))], { kernel_shape: [1, 1] }, { name: 'c2' });
    b.output(h, 'float32', ['N', 2, 4, 4]);
    const m = b.model();
    for (const criterion of ['l1', 'l2']) {
      const r = await runPass('prune-structured', m, { sparsity: 0.25, criterion, include: ['c1'] });
      const layer = (r.report.details!.layers as { node: string; removed: number[] }[]).find((l) => l.node === 'c1')!;
      expect(layer.removed, criterion).toEqual([1]);
    }
    // bn-scale with no BatchNorm left says so instead of silently scoring by L1
    const bn = await runPass('prune-structured', m, { sparsity: 0.25, criterion: 'bn-scale', include: ['c1'] });
    expect(bn.report.warnings?.join('\n')).toMatch(/bn-scale: no BatchNormalization reads a pruned layer's output/);
    expect(bn.report.summary).toContain('(l1: no BatchNormalization left for bn-scale)');
  });

  it('a removed channel\'s constant (its bias through a decomposed HardSwish) is folded into the reader\'s bias', async () => {
    const rng = new Rng(6);
    const b = new GraphBuilder('compensation');
    const x = b.input('input', 'float32', ['N', 1, 6, 6]);
    const w1 = randn(rng, 4 * 9, 1);
    for (let k = 0; k < 9; k++) w1[9 + k] = 0.02 * Math.sign(w1[9 + k]!); // channel 1: weak filter, bias 1.5
    const c1 = b.node('Conv', [x, b.initializer('c1.weight', t(w1, [4, 1, 3, 3])), b.initializer('c1.bias', t([0.2, 1.5, -0.3, 0.1], [4]))], { kernel_shape: [3, 3] }, { name: 'c1' });
    // HardSwish as paddle2onnx writes it: x * clip(x + 3, 0, 6) / 6
    const k3 = b.initializer('three', t([3], []));
    const k6 = b.initializer('six', t([6], []));
    const clipped = b.node('Clip', [b.node('Add', [c1, k3]), b.initializer('zero', t([0], [])), k6]);
    const hs = b.node('Mul', [c1, b.node('Div', [clipped, k6])]);
    const y = b.node('Conv', [hs, b.initializer('c2.weight', t(randn(rng, 3 * 4, 0.5), [3, 4, 1, 1])), b.initializer('c2.bias', t([0.1, 0, -0.1], [3]))], { kernel_shape: [1, 1] }, { name: 'c2' });
    b.output(y, 'float32', ['N', 3, 4, 4]);
    const m = b.model([{ domain: '', version: 13 }]);
    const feeds = { input: { data: randn(rng, 2 * 36, 1), shape: [2, 1, 6, 6] } };
    const ref = (await runOrt(m, feeds)).outputs[y]!;
    const err: Record<string, number> = {};
    for (const compensateBias of [true, false]) {
      const r = await runPass('prune-structured', m, { sparsity: 0.25, include: ['c1'], compensateBias });
      expect((r.report.details!.layers as { node: string; removed: number[] }[]).find((l) => l.node === 'c1')!.removed).toEqual([1]);
      expect(r.report.stats!.biasesCompensated).toBe(compensateBias ? 1 : 0);
      err[String(compensateBias)] = diff((await runOrt(r.model, feeds)).outputs[y]!, ref).rel;
    }
    // without: the reader loses hardswish(1.5) · W2[:, 1] everywhere; with: only the weak filter's part
    expect(err['true']!).toBeLessThan(0.2 * err['false']!);
  });

  it('through a spatial Resize (an FPN / U-Net upsampling): channels pruned across it; a bias-less reader that loses channels itself gets a compensation bias of its new size', async () => {
    const rng = new Rng(9);
    const b = new GraphBuilder('upsample');
    const x = b.input('input', 'float32', ['N', 2, 4, 4]);
    const c1 = b.node('Conv', [x, b.initializer('c1.weight', t(randn(rng, 8 * 2 * 9, 0.5), [8, 2, 3, 3])), b.initializer('c1.bias', t(randn(rng, 8, 0.5), [8]))], { pads: [1, 1, 1, 1] }, { name: 'c1' });
    // c2 has no bias: compensating c1's removed channels gives it one, and c2 loses channels too
    const c2 = b.node('Conv', [b.node('Relu', [c1]), b.initializer('c2.weight', t(randn(rng, 8 * 8, 0.5), [8, 8, 1, 1]))], {}, { name: 'c2' });
    const up = b.node('Resize', [b.node('Relu', [c2]), '', b.initializer('scales', t([1, 1, 2, 2], [4]))], { mode: 'nearest' }, { name: 'up' });
    const y = b.node('Conv', [up, b.initializer('c3.weight', t(randn(rng, 3 * 8, 0.5), [3, 8, 1, 1])), b.initializer('c3.bias', t([0, 0.1, -0.1], [3]))], {}, { name: 'c3' });
    b.output(y, 'float32', ['N', 3, 8, 8]);
    const m = b.model([{ domain: '', version: 13 }]);
    const r = await runPass('prune-structured', m, { sparsity: 0.25 });
    const layers = r.report.details!.layers as { node: string; removed: number[] }[];
    expect(layers.find((l) => l.node === 'c1')!.removed).toHaveLength(2);
    expect(layers.find((l) => l.node === 'c2')!.removed).toHaveLength(2);
    const g = r.model.graph;
    const c2Node = g.nodes.find((n) => n.name === 'c2')!;
    expect(g.initializers.get(c2Node.inputs[2]!)?.shape).toEqual([6]);
    const feeds = { input: { data: randn(rng, 2 * 32, 1), shape: [2, 2, 4, 4] } };
    const out = (await runOrt(r.model, feeds)).outputs[y]!;
    expect(out.length).toBe(2 * 3 * 64);
    expect([...out].every(Number.isFinite)).toBe(true);
  });

  it('through a Gelu into a Gemm reader (a transformer MLP neuron): the constant is folded there too', async () => {
    const rng = new Rng(8);
    const b = new GraphBuilder('mlp_gelu');
    const x = b.input('input', 'float32', ['N', 4]);
    const w1 = randn(rng, 6 * 4, 1);
    for (let k = 0; k < 4; k++) w1[4 + k] = 0.01; // neuron 1: weak weights, bias 1
    const h = b.node('Gemm', [x, b.initializer('fc1.weight', t(w1, [6, 4])), b.initializer('fc1.bias', t([0.1, 1, -0.2, 0.3, 0, 0.2], [6]))], { transB: 1 }, { name: 'fc1' });
    const y = b.node('Gemm', [b.node('Gelu', [h]), b.initializer('fc2.weight', t(randn(rng, 3 * 6, 0.5), [3, 6])), b.initializer('fc2.bias', t([0, 0.1, -0.1], [3]))], { transB: 1 }, { name: 'fc2' });
    b.output(y, 'float32', ['N', 3]);
    const m = b.model([{ domain: '', version: 20 }]);
    const feeds = { input: { data: randn(rng, 8 * 4, 1), shape: [8, 4] } };
    const ref = (await runOrt(m, feeds)).outputs[y]!;
    const err: number[] = [];
    for (const compensateBias of [true, false]) {
      const r = await runPass('prune-structured', m, { sparsity: 1 / 6, include: ['fc1'], compensateBias });
      expect((r.report.details!.layers as { node: string; removed: number[] }[]).find((l) => l.node === 'fc1')!.removed).toEqual([1]);
      err.push(diff((await runOrt(r.model, feeds)).outputs[y]!, ref).rel);
    }
    expect(err[0]!).toBeLessThan(0.2 * err[1]!);
  });
});

