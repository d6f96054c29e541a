/**
 * Model-local functions (torch.onnx dynamo exports, `export_modules_as_functions`): read inlines
 * every call so the graph is plain ONNX, onnxruntime answers the same before and after, the front
 * end then sees the weights (a constant `If` takes its branch), and odd functions are refused or
 * kept with a reason.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Model, normalizeModel, runModel } from '@whittle/graph';
import { OnnxFormatError, readModel, writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { type LocalFunctionSpec, branchProto, localFunctionProto, torchDynamoMlp } from '../src/exporters/index.js';

const X = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i * 0.7));

async function ortRun(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run(feeds);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

/** A model `y = f(x)` calling local function(s), the first spec being the called one. */
function calling(fns: LocalFunctionSpec[], opts: { opset?: number; callAttrs?: Record<string, number>; callInputs?: number; wrapInIf?: boolean } = {}): Model {
  const b = new GraphBuilder('main');
  const x = b.input('x', 'float32', [2, 3]);
  const f = fns[0]!;
  const args = Array.from({ length: opts.callInputs ?? 1 }, () => x);
  const call = (bb: GraphBuilder, out: string): string => bb.node(f.name, args, opts.callAttrs ?? {}, { domain: f.domain, name: 'call', outputNames: [out] });
  if (opts.wrapInIf) {
    const then = new GraphBuilder('then');
    then.output(call(then, 'y_then'), 'float32', [2, 3]);
    const other = new GraphBuilder('else');
    other.output(other.node('Neg', [x], {}, { outputNames: ['y_else'] }), 'float32', [2, 3]);
    const c = b.input('c', 'bool', []);
    b.output(b.node('If', [c], { then_branch: then.build(), else_branch: other.build() }, { outputNames: ['y'] }), 'float32', [2, 3]);
  } else {
    b.output(call(b, 'y'), 'float32', [2, 3]);
  }
  return b.model([{ domain: '', version: opts.opset ?? 18 }, { domain: 'local', version: 1 }], { functions: fns.map(localFunctionProto) });
}

const scaleFn = (extra: Partial<LocalFunctionSpec> = {}): LocalFunctionSpec => ({
  domain: 'local', name: 'Scale', inputs: ['a'], outputs: ['b'], attrs: ['k'], defaults: [{ name: 'k', float: 3 }],
  nodes: [
    { op: 'Constant', inputs: [], outputs: ['kk'], attrs: [{ name: 'value_float', ref: 'k', type: 'float' }] },
    { op: 'Mul', inputs: ['a', 'kk'], outputs: ['b'] },
  ],
  opsets: [['', 18]],
  ...extra,
});

const xIn = (): ort.Tensor => new ort.Tensor('float32', Float32Array.from([1, -2, 3, 0.5, 4, -1]), [2, 3]);

describe('model-local functions are inlined on read', () => {
  it('a torch dynamo export: no call left, onnxruntime gives the same outputs bit for bit, the front end sees every weight', async () => {
    const bytes = writeModel(torchDynamoMlp({ seed: 3 }));
    const m = readModel(bytes);
    expect(m.functions ?? []).toHaveLength(0);
    expect(m.graph.nodes.every((n) => n.domain === '')).toBe(true);
    const names = m.graph.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    const feeds = { l_x_: new ort.Tensor('float32', X, [3, 64]) };
    const want = await ortRun(bytes, feeds);
    const got = await ortRun(writeModel(m), feeds);
    expect(Array.from(got.head_1!)).toEqual(Array.from(want.head_1!));

    // the weights reach the techniques: every projection reads an initializer, no If is left
    const front = (await normalizeModel(m)).model;
    const linear = front.graph.nodes.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
    expect(linear).toHaveLength(3);
    for (const n of linear) expect(front.graph.initializers.get(n.inputs[1]!)?.shape.length, n.name).toBe(2);
    expect(front.graph.nodes.some((n) => n.opType === 'If')).toBe(false);
    const frontOut = await ortRun(writeModel(front), feeds);
    for (let i = 0; i < want.head_1!.length; i++) expect(frontOut.head_1![i]).toBeCloseTo(want.head_1![i]!, 4);
    // and Whittle's interpreter runs it
    const run = await runModel(front, { l_x_: tensor(X, [3, 64], 'float32', { backend: 'cpu' }) });
    const mine = await run.get('head_1')!.data();
    for (let i = 0; i < want.head_1!.length; i++) expect(mine[i]).toBeCloseTo(want.head_1![i]!, 4);
  });

  it('inlineFunctions: false keeps the calls and the functions; the bytes round-trip', () => {
    const bytes = writeModel(torchDynamoMlp({ seed: 3 }));
    const m = readModel(bytes, { inlineFunctions: false });
    expect(m.functions).toHaveLength(11);
    expect(m.graph.nodes.map((n) => n.opType)).toContain('torch_nn_modules_linear_Linear_fc1_1');
    expect(Buffer.from(writeModel(m)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("attributes bind from the call, else the function's default; inside an If branch too", async () => {
    for (const [attrs, k] of [[{ k: 0.5 }, 0.5], [{}, 3]] as const) {
      for (const wrapInIf of [false, true]) {
        const bytes = writeModel(calling([scaleFn()], { callAttrs: attrs, wrapInIf }));
        const m = readModel(bytes);
        expect(m.functions ?? []).toHaveLength(0);
        const feeds: Record<string, ort.Tensor> = { x: xIn(), ...(wrapInIf ? { c: new ort.Tensor('bool', [1], []) } : {}) };
        const got = await ortRun(writeModel(m), feeds);
        expect(Array.from(got.y!)).toEqual(Array.from(xIn().data as Float32Array).map((v) => Math.fround(v * k)));
        expect(Array.from(got.y!)).toEqual(Array.from((await ortRun(bytes, feeds)).y!));
      }
    }
  });

  it('an output that is an input of the function passes through an Identity; unused outputs get fresh names', async () => {
    const f: LocalFunctionSpec = { domain: 'local', name: 'Pass', inputs: ['a'], outputs: ['a', 'n'], nodes: [{ op: 'Neg', inputs: ['a'], outputs: ['n'] }], opsets: [['', 18]] };
    const bytes = writeModel(calling([f]));
    const m = readModel(bytes);
    expect(m.graph.nodes.map((n) => n.opType).sort()).toEqual(['Identity', 'Neg']);
    expect(Array.from((await ortRun(writeModel(m), { x: xIn() })).y!)).toEqual(Array.from(xIn().data as Float32Array));
  });

  it('a function that calls itself is a typed error naming it, not a hang', () => {
    const loop: LocalFunctionSpec = { domain: 'local', name: 'Loopy', inputs: ['a'], outputs: ['b'], nodes: [{ op: 'Loopy', domain: 'local', inputs: ['a'], outputs: ['b'] }], opsets: [['', 18], ['local', 1]] };
    expect(() => readModel(writeModel(calling([loop])))).toThrow(OnnxFormatError);
    expect(() => readModel(writeModel(calling([loop])))).toThrow(/local\.Loopy.*calls itself/);
  });

  it('a call with more inputs than the function takes is a typed error naming the node', () => {
    expect(() => readModel(writeModel(calling([scaleFn()], { callInputs: 2 })))).toThrow(/node 'call' \(call of local function 'local\.Scale'\) has 2 inputs; the function takes 1/);
  });

  it('a function written against another opset than the model stays a call; one nothing calls stays too', () => {
    const other = scaleFn({ opsets: [['', 13]] });
    const m = readModel(writeModel(calling([other], { opset: 18 })));
    expect(m.functions).toHaveLength(1);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Scale']);
    const unused = readModel(writeModel(calling([scaleFn(), { ...scaleFn(), name: 'Unused' }])));
    expect(unused.functions).toHaveLength(1);
  });

  it("a nested If reading the function's inputs is renamed with them", async () => {
    const f: LocalFunctionSpec = {
      domain: 'local', name: 'MaybeNeg', inputs: ['a'], outputs: ['out'],
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['t'], attrs: [{ name: 'value_int', int: 1 }] },
        { op: 'Cast', inputs: ['t'], outputs: ['c'], attrs: [{ name: 'to', int: 9 }] },
        { op: 'If', inputs: ['c'], outputs: ['out'], attrs: [
          { name: 'then_branch', graph: branchProto('then', [{ op: 'Neg', inputs: ['a'], outputs: ['r'] }], ['r']) },
          { name: 'else_branch', graph: branchProto('else', [{ op: 'Identity', inputs: ['a'], outputs: ['r2'] }], ['r2']) },
        ] },
      ],
      opsets: [['', 18]],
    };
    const m = readModel(writeModel(calling([f])));
    const got = await ortRun(writeModel(m), { x: xIn() });
    expect(Array.from(got.y!)).toEqual(Array.from(xIn().data as Float32Array).map((v) => -v));
    // the front end takes the constant branch: no If left
    const front = (await normalizeModel(m)).model;
    expect(front.graph.nodes.map((n) => n.opType)).toEqual(['Neg']);
    expect(Array.from((await ortRun(writeModel(front), { x: xIn() })).y!)).toEqual(Array.from(got.y!));
  });
});
