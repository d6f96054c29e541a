import { describe, expect, it } from 'vitest';
import {
  OutputMismatchError, PassAbortedError, PassManager, PassOptionsError, RecipeError, UnknownPassError, attr,
  cloneModel, createGraph, createModel, defineOptions, definePass, foldConstants, getPass, listPasses, parseRecipe, registerPass, runPass,
  runRecipe, setModelEvaluator, summarize, unregisterPass,
} from '../src/index.js';
import type { Feeds, Model, ModelEvaluator, Pass } from '../src/index.js';
import type { Tensor } from '@whittle/tensor';
import { model, node, t, vals } from './helpers.js';

/** Evaluate a model by turning feeds into initializers and constant-folding everything. */
const foldEvaluator: ModelEvaluator = async (m: Model, feeds: Feeds) => {
  const g = { ...m.graph, inputs: [], outputs: [], initializers: new Map([...m.graph.initializers, ...Object.entries(feeds)]) };
  const r = await foldConstants({ ...m, graph: g }, { dce: false, excludeOps: [] });
  const out: Record<string, Tensor> = {};
  for (const o of m.graph.outputs) out[o.name] = r.model.graph.initializers.get(o.name)!;
  return out;
};

const simple = () =>
  model([node('Identity', ['x'], ['a']), node('Mul', ['a', 'w'], ['m']), node('Add', ['m', 'b'], ['y'])], { x: [2] }, ['y'], { w: t([2, 3], [2]), b: t([1, 1], [2]) });

/** "fold Mul by 1": the example pass of CONTRIBUTING.md. */
const scaleWeights = definePass({
  specificationVersion: 'v1',
  name: 'test-scale-weights',
  description: 'multiply every float initializer by a factor',
  optionsSchema: defineOptions({
    factor: { type: 'number', min: 0, max: 10, default: 1, description: 'the factor' },
    mode: { type: 'string', enum: ['all', 'none'], default: 'all', description: 'which initializers' },
  }),
  async run(m, ctx) {
    const c = cloneModel(m);
    for (const [k, v] of c.graph.initializers) c.graph.initializers.set(k, t(vals(v).map((x) => x * ctx.options.factor), [...v.shape]));
    return { model: c, report: { changed: ctx.options.factor !== 1, summary: `scaled by ${ctx.options.factor}`, details: { r: ctx.rng.uniform() } } };
  },
});

describe('pass registry', () => {
  it('lists the built-in passes with their options', () => {
    const names = listPasses().map((p) => p.name);
    for (const n of ['normalize', 'fold-batchnorm', 'fuse-matmul-add', 'remove-identity', 'constants-to-initializers', 'shared-weights', 'fold-constants', 'eliminate-dead-code', 'infer-shapes']) {
      expect(names).toContain(n);
    }
    expect(listPasses().find((p) => p.name === 'shared-weights')!.options.untieSharedWeights!.type).toBe('boolean');
  });
  it('a value that is not a Model is refused saying how to get one; NaN and Infinity options are shown as numbers', async () => {
    await expect(runRecipe(new Uint8Array(4) as never, { passes: [{ pass: 'normalize' }] })).rejects.toThrow(/runRecipe: expected a Model, got the bytes of a file \(decode them with readModel from @whittle\/onnx\)/);
    await expect(runPass('normalize', 'model.onnx' as never)).rejects.toThrow(/runPass\('normalize'\): expected a Model, got a string \(read the file with readModelFile/);
    await expect(runRecipe(null as never, { passes: [{ pass: 'normalize' }] })).rejects.toThrow(/expected a Model, got null/);
    const m = createModel(createGraph());
    await expect(runPass('shared-weights', m, { untieSharedWeights: Number.NaN })).rejects.toThrow(/must be a boolean, got NaN \(number\)/);
  });
  it('throws UnknownPassError with close names', () => {
    let err: unknown;
    try {
      getPass('fold-batchnrom');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownPassError);
    expect((err as UnknownPassError).suggestions[0]).toBe('fold-batchnorm');
    expect((err as Error).message).toMatch(/unknown pass 'fold-batchnrom'; did you mean 'fold-batchnorm'/);
    expect(() => getPass('zzzzzzzzzzzzzzzzz')).toThrow(/registered passes: .*normalize/);
  });
  it('registers, rejects duplicates and bad names, unregisters', () => {
    registerPass(scaleWeights);
    expect(getPass('test-scale-weights')).toBe(scaleWeights);
    expect(() => registerPass(scaleWeights)).toThrow(/already registered/);
    expect(() => registerPass({ ...scaleWeights, name: 'Bad Name' })).toThrow(/invalid pass name/);
    expect(() => registerPass({ ...scaleWeights, specificationVersion: 'v2' } as unknown as Pass)).toThrow(/supports 'v1'/);
    expect(unregisterPass('test-scale-weights')).toBe(true);
    expect(() => getPass('test-scale-weights')).toThrow(UnknownPassError);
  });
  it('validates options: unknown names, types, ranges, enums; applies defaults', async () => {
    const m = simple();
    const bad = async (o: Record<string, unknown>) => runPass(scaleWeights, m, o).then(() => undefined, (e: unknown) => e);
    const e1 = (await bad({ factr: 2, extra: 1 })) as PassOptionsError;
    expect(e1).toBeInstanceOf(PassOptionsError);
    expect(e1.unknown).toEqual(['factr', 'extra']);
    expect(e1.message).toMatch(/pass 'test-scale-weights': unknown options 'factr', 'extra'; known options: factor, mode/);
    expect(((await bad({ factor: 'x' })) as Error).message).toMatch(/option 'factor' must be a number/);
    expect(((await bad({ factor: 11 })) as Error).message).toMatch(/'factor' must be <= 10/);
    expect(((await bad({ mode: 'some' })) as Error).message).toMatch(/'mode' must be one of 'all', 'none'/);
    const r = await runPass(scaleWeights, m, { factor: 2 });
    expect(vals(r.model.graph.initializers.get('w')!)).toEqual([4, 6]);
    expect(vals(m.graph.initializers.get('w')!)).toEqual([2, 3]);
    expect(scaleWeights.optionsSchema!.describe()[0]).toBe('factor (number, range [0, 10], default 1): the factor');
    await expect(runPass('remove-identity', m, { x: 1 })).rejects.toThrow(/unknown option 'x'; this pass takes no options/);
  });
});

describe('recipes', () => {
  it('parses JSON and YAML recipes to the same structure', () => {
    const json = parseRecipe('{"name":"n","passes":[{"pass":"normalize","options":{"untieSharedWeights":true}},{"pass":"eliminate-dead-code"}]}');
    const yaml = parseRecipe(`
name: n
passes:
  - pass: normalize
    options:
      untieSharedWeights: true
  - eliminate-dead-code
`);
    expect(yaml).toEqual(json);
    expect(json).toEqual({ name: 'n', passes: [{ pass: 'normalize', options: { untieSharedWeights: true } }, { pass: 'eliminate-dead-code' }] });
  });
  it('rejects bad structure with RecipeError naming the step', () => {
    const err = (f: () => unknown): RecipeError => {
      try {
        f();
      } catch (e) {
        return e as RecipeError;
      }
      throw new Error('no error');
    };
    expect(err(() => parseRecipe('{"passes": 3}'))).toBeInstanceOf(RecipeError);
    expect(err(() => parseRecipe('{"passes": 3}')).message).toMatch(/'passes' list/);
    expect(err(() => parseRecipe('passes: [ {pass: normalize}, {opts: 1} ]')).message).toMatch(/step 1: 'pass' must be a non-empty string/);
    expect(err(() => parseRecipe('passes: [ {pass: normalize, option: {}} ]')).step).toBe(0);
    expect(err(() => parseRecipe('passes: [ {pass: normalize, option: {}} ]')).message).toMatch(/step 0 \(pass 'normalize'\): unknown field\(s\) 'option'/);
    expect(err(() => parseRecipe('{"passes": [}')).message).toMatch(/not valid JSON/);
    expect(err(() => parseRecipe('name: x\nsteps: []')).message).toMatch(/unknown field\(s\) 'steps'/);
  });
  it('rejects unknown passes and options before running anything', async () => {
    const m = simple();
    const e1 = await runRecipe(m, { passes: [{ pass: 'normalize' }, { pass: 'fold-batchnrom' }] }).then(() => undefined, (e: unknown) => e as RecipeError);
    expect(e1).toBeInstanceOf(RecipeError);
    expect(e1!.step).toBe(1);
    expect(e1!.message).toMatch(/recipe step 1: unknown pass 'fold-batchnrom'; did you mean 'fold-batchnorm'/);
    const e2 = await runRecipe(m, 'passes:\n  - pass: shared-weights\n    options: { untie: true }').then(() => undefined, (e: unknown) => e as RecipeError);
    expect(e2!.message).toMatch(/recipe step 0: pass 'shared-weights': unknown option 'untie'/);
  });
  it('runs passes in order, collecting reports, and checks outputs with an evaluator', async () => {
    const m = simple();
    const progress: number[] = [];
    const r = await runRecipe(m, { name: 'norm', passes: [{ pass: 'remove-identity' }, { pass: 'shared-weights' }] }, {
      frontEnd: false,
      onProgress: (f) => progress.push(f),
      check: { inputs: [{ x: t([1, 2], [2]) }, { x: t([-1, 5], [2]) }], evaluator: foldEvaluator },
    });
    expect(r.name).toBe('norm');
    expect(r.steps.map((s) => [s.pass, s.report.changed])).toEqual([['remove-identity', true], ['shared-weights', false]]);
    expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['Mul', 'Add']);
    expect(r.check!.passed).toBe(true);
    expect(r.check!.outputs[0]!.maxAbsDiff).toBe(0);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(1);
  });
  it('reports output mismatches through the plugged evaluator', async () => {
    registerPass(scaleWeights, { replace: true });
    const prev = setModelEvaluator(foldEvaluator);
    try {
      const recipe = { passes: [{ pass: 'test-scale-weights', options: { factor: 1.5 } }] };
      const check = { inputs: { x: t([1, 2], [2]) }, tolerance: { rtol: 1e-3, atol: 1e-6 } };
      await expect(runRecipe(simple(), recipe, { check })).rejects.toThrow(OutputMismatchError);
      const r = await runRecipe(simple(), recipe, { check: { ...check, throwOnMismatch: false } });
      expect(r.check!.passed).toBe(false);
      // y = x*w + b: original [3, 7], scaled [1*3+1.5, 2*4.5+1.5] = [4.5, 10.5]
      expect(r.check!.outputs[0]!.maxAbsDiff).toBeCloseTo(3.5, 5);
    } finally {
      setModelEvaluator(prev);
      unregisterPass('test-scale-weights');
    }
  });
  it('validates the model after each pass and names the failing step', async () => {
    const breaker = definePass({
      specificationVersion: 'v1',
      name: 'test-breaker',
      description: 'drops the first node',
      async run(m) {
        const c = cloneModel(m);
        c.graph.nodes.shift();
        return { model: c, report: { changed: true, summary: 'broke it' } };
      },
    });
    const e = await new PassManager({ frontEnd: false }).add('remove-identity').add(breaker).run(simple()).then(() => undefined, (x: unknown) => x as RecipeError);
    expect(e).toBeInstanceOf(RecipeError);
    expect(e!.step).toBe(1);
    expect(e!.message).toMatch(/recipe step 1 \(pass 'test-breaker'\) produced an invalid model: .*'m' of node/);
    const ok = await new PassManager({ validate: false, frontEnd: false }).add(breaker).run(simple());
    expect(ok.model.graph.nodes).toHaveLength(2);
  });
  it('aborts through the signal', async () => {
    const ac = new AbortController();
    const stopper = definePass({
      specificationVersion: 'v1',
      name: 'test-stopper',
      description: 'aborts the run',
      async run(m) {
        ac.abort(new Error('user cancelled'));
        return { model: m, report: { changed: false, summary: '' } };
      },
    });
    const e = await new PassManager({ signal: ac.signal }).add(stopper).add('normalize').run(simple()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PassAbortedError);
    expect((e as Error).message).toMatch(/step 1 \(pass 'normalize'\): aborted \(user cancelled\)/);
  });
  it('gives each step a seeded rng: same seed, same numbers', async () => {
    const run = (seed: number) => new PassManager({ seed }).add(scaleWeights).add(scaleWeights).run(simple());
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    const r = (x: typeof a) => x.steps.map((s) => s.report.details!.r);
    expect(r(a)).toEqual(r(b));
    expect(r(a)).not.toEqual(r(c));
    expect(r(a)[0]).not.toEqual(r(a)[1]);
  });
});

describe('summarize', () => {
  it('counts ops, parameters by dtype and layer, and FLOPs', () => {
    const m = model(
      [
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
        node('Flatten', ['c'], ['f'], {}, 'flat'),
        node('Gemm', ['f', 'fw', 'fb'], ['g'], { transB: attr.int(1) }, 'fc'),
        node('MatMul', ['g', 'mw'], ['y'], {}, 'mm'),
      ],
      { x: ['N', 2, 4, 4] },
      ['y'],
      {
        w: t(new Array(3 * 2 * 9).fill(0), [3, 2, 3, 3]),
        b: t([0, 0, 0], [3]),
        fw: t(new Array(10 * 48).fill(0), [10, 48]),
        fb: t(new Array(10).fill(0), [10]),
        mw: t(new Array(10 * 5).fill(0), [10, 5], 'int8'),
      },
    );
    const s = summarize(m, { dims: { N: 2 } });
    expect(s.ops).toEqual({ Conv: 1, Flatten: 1, Gemm: 1, MatMul: 1 });
    expect(s.parameters).toBe(54 + 3 + 480 + 10 + 50);
    expect(s.byDtype.float32).toEqual({ tensors: 4, parameters: 547, bytes: 547 * 4 });
    expect(s.byDtype.int8).toEqual({ tensors: 1, parameters: 50, bytes: 50 });
    expect(s.bytes).toBe(547 * 4 + 50);
    const conv = s.layers.find((l) => l.node === 'conv')!;
    expect(conv.parameters).toBe(57);
    // conv: out [2,3,4,4] = 96 outputs, 2*18 MACs each + bias
    expect(conv.flops).toBe(2 * 96 * 18 + 96);
    expect(s.layers.find((l) => l.node === 'fc')!.flops).toBe(2 * 2 * 10 * 48 + 20);
    expect(s.layers.find((l) => l.node === 'mm')!.flops).toBe(2 * 2 * 5 * 10);
    expect(s.assumedDims).toEqual([]);
    expect(summarize(m).assumedDims).toEqual(['N']);
  });
});
