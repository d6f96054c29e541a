import { describe, expect, it } from 'vitest';
import { runPass, runRecipe, validateModel } from '../src/index.js';
import { model, node, t } from './helpers.js';

describe('remove-mul-by-one', () => {
  const build = () =>
    model(
      [
        node('Mul', ['x', 'one'], ['a'], {}, 'scalar_one'), // removed
        node('Mul', ['ones3', 'a'], ['b'], {}, 'vector_ones'), // removed: [3] broadcasts into [N, 3]
        node('Mul', ['b', 'ones23'], ['c'], {}, 'grows_shape'), // kept: [2, 3] would change [N, 3]
        node('Mul', ['c', 'two'], ['y'], {}, 'two'), // kept: not ones
        node('Mul', ['x', 'almost'], ['z'], {}, 'almost'), // removed only with tolerance
      ],
      { x: ['N', 3] },
      ['y', 'z'],
      { one: t([1], []), ones3: t([1, 1, 1], [3]), ones23: t([1, 1, 1, 1, 1, 1], [2, 3]), two: t([2], []), almost: t([1.001], []) },
    );

  it('removes Mul by ones that do not change the shape, rewiring consumers', async () => {
    const m = build();
    const r = await runPass('remove-mul-by-one', m);
    expect(r.report.details!.removed).toEqual(['scalar_one', 'vector_ones']);
    const g = r.model.graph;
    expect(g.nodes.map((n) => n.name)).toEqual(['grows_shape', 'two', 'almost']);
    expect(g.nodes[0]!.inputs).toEqual(['x', 'ones23']);
    validateModel(r.model);
    expect(m.graph.nodes).toHaveLength(5); // the input model is untouched
  });

  it('honours the tolerance option and keeps graph output names', async () => {
    const r = await runRecipe(build(), 'passes:\n  - pass: remove-mul-by-one\n    options: { tolerance: 0.01 }');
    const g = r.model.graph;
    expect(g.nodes.map((n) => n.name)).toEqual(['grows_shape', 'two', 'almost']); // 'z' = Mul(x, ·) with x a graph input: kept
    expect(g.outputs.map((o) => o.name)).toEqual(['y', 'z']);
    const m2 = model([node('Relu', ['x'], ['r']), node('Mul', ['r', 'almost'], ['z'], {}, 'almost')], { x: [3] }, ['z'], { almost: t([1.001], []) });
    expect((await runPass('remove-mul-by-one', m2)).model.graph.nodes).toHaveLength(2);
    const r2 = await runPass('remove-mul-by-one', m2, { tolerance: 0.01 });
    expect(r2.model.graph.nodes.map((n) => `${n.opType}->${n.outputs[0]}`)).toEqual(['Relu->z']);
    validateModel(r2.model);
    await expect(runPass('remove-mul-by-one', build(), { tolerance: 1 })).rejects.toThrow(/'tolerance' must be <= 0.1/);
  });
});
