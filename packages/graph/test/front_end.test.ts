import { describe, expect, it } from 'vitest';
import { writeModel } from '@whittle/onnx';
import * as ort from 'onnxruntime-node';
import {
  NameGenerator, NoCompressionError, attr, cloneModel, compressModel, createGraph, definePass, graphScopes,
  localizeInitializers, normalizeModel, registerPass, runRecipe, tensorInfo, unregisterPass, weightBytes,
} from '../src/index.js';
import type { Graph, Model } from '../src/index.js';
import { model, node, t, vals } from './helpers.js';

/** then: y = x · W1 (W1 a Constant node behind a Transpose); else: y = x · W2 (a main-graph weight read only here). */
function branchy(): Model {
  const thenG: Graph = createGraph({
    name: 'then',
    nodes: [
      node('Constant', [], ['w1t'], { value: attr.tensor(t([1, 2, 3, 4, 5, 6], [3, 2])) }),
      node('Transpose', ['w1t'], ['w1'], { perm: attr.ints([1, 0]) }),
      node('MatMul', ['x', 'w1'], ['y_then']),
    ],
    outputs: [tensorInfo('y_then', 'float32', [1, 3])],
  });
  const elseG: Graph = createGraph({
    name: 'else',
    nodes: [node('Identity', ['w2'], ['w2i']), node('MatMul', ['x', 'w2i'], ['y_else'])],
    outputs: [tensorInfo('y_else', 'float32', [1, 3])],
  });
  const m = model(
    [node('Greater', ['s', 'zero'], ['c']), node('If', ['c'], ['y'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) })],
    { x: [1, 2], s: [1] },
    { y: [1, 3] },
    { w2: t([6, 5, 4, 3, 2, 1], [2, 3]), zero: t([0], [1]) },
  );
  return m;
}

/** Test technique: halves every float weight of every scope that has more than one element. */
const halve = definePass({
  specificationVersion: 'v1',
  name: 'test-halve',
  description: 'halve weights in every scope',
  async run(m) {
    const c = cloneModel(m);
    let n = 0;
    for (const { graph } of graphScopes(c.graph)) {
      for (const [k, v] of graph.initializers) {
        if (v.dtype !== 'float32' || v.size < 2) continue;
        graph.initializers.set(k, t(vals(v).map((x) => x / 2), [...v.shape]));
        n++;
      }
    }
    return { model: c, report: { changed: n > 0, summary: `${n} weights halved`, details: n ? {} : { reason: 'no float weights' } } };
  },
});

const noop = definePass({
  specificationVersion: 'v1',
  name: 'test-noop',
  description: 'changes nothing',
  async run(m) {
    return { model: m, report: { changed: false, summary: '0 weights found', details: { reason: '0 Conv/MatMul/Gemm weights' } } };
  },
});

async function ortRun(m: Model, s: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(writeModel(m));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, -2]), [1, 2]), s: new ort.Tensor('float32', Float32Array.from([s]), [1]) });
  await session.release();
  return Array.from(out.y!.data as Float32Array);
}

describe('front end', () => {
  it('turns Constant/Transpose/Identity-wrapped weights inside If branches into plain subgraph initializers', async () => {
    const m = branchy();
    const before = [await ortRun(m, 1), await ortRun(m, -1)];
    const { model: n, report } = await normalizeModel(m);
    const scopes = graphScopes(n.graph);
    expect(scopes.map((s) => s.path)).toEqual(['', 'y/then_branch', 'y/else_branch']);
    expect([...scopes[1]!.graph.initializers.keys()]).toEqual(['w1']);
    expect(vals(scopes[1]!.graph.initializers.get('w1')!)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(scopes[1]!.graph.nodes.map((x) => x.opType)).toEqual(['MatMul']);
    expect([...scopes[2]!.graph.initializers.keys()]).toEqual(['w2']); // moved into the one branch reading it
    expect(n.graph.initializers.has('w2')).toBe(false);
    expect(report.stats).toMatchObject({ constantsConverted: 1, identitiesRemoved: 1, initializersLocalized: 1, constantsFolded: 1 });
    expect([await ortRun(n, 1), await ortRun(n, -1)]).toEqual(before);
    expect(m.graph.nodes[1]!.attributes.get('then_branch')).toBeDefined(); // input untouched
    expect(graphScopes(m.graph)[1]!.graph.nodes).toHaveLength(3);
  });

  it('leaves a weight shared by both branches in the enclosing graph', () => {
    const m = branchy();
    const elseG = graphScopes(m.graph)[2]!.graph;
    const thenG = graphScopes(m.graph)[1]!.graph;
    thenG.nodes.push(node('Add', ['y_then', 'w2'], ['unused']));
    expect(localizeInitializers(m.graph)).toBe(0);
    expect(m.graph.initializers.has('w2')).toBe(true);
    expect(elseG.initializers.size).toBe(0);
  });

  it('names made inside a subgraph never reuse a name of the enclosing graphs', () => {
    const m = branchy();
    const sub = graphScopes(m.graph)[1]!.graph;
    const names = new NameGenerator(sub);
    expect(names.value('w2')).toBe('w2_1');
    expect(names.value('c')).toBe('c_1');
  });

  it('runs before the first step of every recipe, techniques see the branch weights, and can be turned off', async () => {
    const m = branchy();
    const r = await runRecipe(m, { passes: [] }, { frontEnd: true });
    expect(r.frontEnd!.changed).toBe(true);
    registerPass(halve, { replace: true });
    try {
      const c = await compressModel(m, 'passes: [test-halve]');
      expect(c.outcome).toMatchObject({ changed: true, weightBytesBefore: 52, weightBytesAfter: 52 });
    } finally {
      unregisterPass('test-halve');
    }
    const { PassManager } = await import('../src/index.js');
    const done = await new PassManager({ requireCompression: true }).add(halve).run(m);
    expect(done.steps[0]!.report.summary).toBe('2 weights halved');
    expect(done.frontEnd!.summary).toMatch(/constantsConverted 1/);
    expect(await ortRun(done.model, 1)).toEqual((await ortRun(m, 1)).map((v) => v / 2));
    const raw = await new PassManager({ frontEnd: false }).add(halve).run(m);
    expect(raw.frontEnd).toBeUndefined();
    expect(raw.steps[0]!.report.summary).toBe('1 weights halved'); // only w2: w1 is still a Constant node
  });

  it('refuses a run that compressed nothing or grew the weights, naming what the passes found', async () => {
    const { PassManager } = await import('../src/index.js');
    const e = await new PassManager({ requireCompression: true }).add(noop).run(branchy()).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(NoCompressionError);
    expect((e as Error).message).toBe('nothing compressed: no step changed the model (test-noop: 0 Conv/MatMul/Gemm weights)');
    const grow = definePass({
      specificationVersion: 'v1',
      name: 'test-grow',
      description: 'adds a weight',
      async run(m) {
        const c = cloneModel(m);
        c.graph.initializers.set('extra', t(new Array(64).fill(1), [64]));
        return { model: c, report: { changed: true, summary: 'added' } };
      },
    });
    const g = await new PassManager({ requireCompression: true }).add(grow).run(branchy()).then(() => undefined, (x: unknown) => x);
    expect(g).toBeInstanceOf(NoCompressionError);
    expect((g as Error).message).toMatch(/the stored weights grew from 52 to 308 bytes/);
    const ok = await new PassManager().add(noop).run(branchy());
    expect(ok.outcome).toMatchObject({ changed: false, reason: expect.stringMatching(/no step changed/) });
  });

  it('counts stored weight bytes in every scope, Constant tensors included', () => {
    // w1 (6 floats, Constant in a branch), w2 (6 floats), zero (1 float)
    expect(weightBytes(branchy())).toBe(13 * 4);
  });
});

describe('front end: tied weights', () => {
  it('does not fold Transpose of a table another node reads (it would be stored twice)', async () => {
    const table = t(Array.from({ length: 64 * 80 }, (_, i) => (i % 13) / 13), [80, 64]);
    const m = model(
      [node('Gather', ['table', 'ids'], ['emb']), node('Transpose', ['table'], ['tableT'], { perm: attr.ints([1, 0]) }), node('MatMul', ['emb', 'tableT'], ['logits'])],
      { x: [1] },
      ['logits'],
      { table },
    );
    m.graph.inputs = [tensorInfo('ids', 'int64', [1, 3])];
    const { model: n } = await normalizeModel(m);
    expect([...n.graph.initializers.keys()]).toEqual(['table']);
    expect(n.graph.nodes.map((x) => x.opType)).toEqual(['Gather', 'Transpose', 'MatMul']);
    expect(weightBytes(n)).toBe(80 * 64 * 4);
  });
});

describe('weight coverage', () => {
  it('counts the weights each op type reads, inside subgraphs and through outer scopes, once per stored tensor', async () => {
    const { weightCoverage } = await import('../src/index.js');
    const raw = weightCoverage(branchy());
    expect(raw.byOp.MatMul).toBeUndefined(); // as stored: w1 behind Constant + Transpose, w2 behind Identity
    expect(raw.constantNodes).toBe(1);
    const { model: n } = await normalizeModel(branchy());
    const c = weightCoverage(n);
    expect(c.byOp.MatMul).toEqual({ weights: 2, float16: 0, parameters: 12, inSubgraphs: 2 });
    expect(c.graphs).toBe(3);
    expect(c.floatParameters).toBe(13);
    expect(c.linearFraction).toBeCloseTo(12 / 13, 10);
    expect(c.constantNodes).toBe(0);
  });
});
