import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { batchesOf, comparedConstants, modelInputSpecs, syntheticSource } from '../src/index.js';

const i64 = (v: number): ReturnType<typeof tensor> => tensor(BigInt64Array.from([BigInt(v)]), [], 'int64', { backend: 'cpu' });

/** A model switching on a sample rate: Equal(sr, 16000) in the main graph, Equal(sr, 8000) inside the else branch. */
function rateSwitch(): ReturnType<GraphBuilder['model']> {
  const b = new GraphBuilder('main');
  b.input('x', 'float32', ['N', 4]);
  b.input('sr', 'int64', []);
  b.input('input_ids', 'int64', ['N', 'S']);
  const is16k = b.node('Equal', ['sr', b.node('Constant', [], { value: i64(16000) })]);
  b.node('Equal', ['input_ids', b.initializer('pad', i64(0))]); // not a scalar input: its values stay random
  const thenB = new GraphBuilder('then');
  thenB.node('Identity', ['x'], {}, { outputNames: ['y16'] });
  thenB.output('y16', 'float32');
  const elseB = new GraphBuilder('else');
  const is8k = elseB.node('Equal', [elseB.initializer('rate8k', i64(8000)), 'sr']);
  elseB.node('Where', [is8k, 'x', elseB.node('Neg', ['x'])], {}, { outputNames: ['y8'] });
  elseB.output('y8', 'float32');
  b.nodeOutputs('If', [is16k], { then_branch: attr.graph(thenB.build()), else_branch: attr.graph(elseB.build()) }, { outputNames: ['y'] });
  b.output('y', 'float32', ['N', 4]);
  return b.model();
}

describe('constants a scalar integer input is compared with', () => {
  it('are found in the graph and its subgraphs, and only for scalar integer inputs', () => {
    const m = rateSwitch();
    expect(comparedConstants(m)).toEqual(new Map([['sr', [16000, 8000]]]));
    const specs = modelInputSpecs(m);
    expect(specs.find((s) => s.name === 'sr')!.comparedWith).toEqual([16000, 8000]);
    expect(specs.find((s) => s.name === 'input_ids')!.comparedWith).toBeUndefined();
  });

  it('synthetic data draws the input from them (both branches), unless a value is given', async () => {
    const inputs = modelInputSpecs(rateSwitch());
    const s = syntheticSource(inputs, { count: 24, seed: 3 });
    expect(s.description).toMatch(/sr from \{16000, 8000\}/);
    const values = async (src: typeof s, name: string): Promise<number[]> => {
      const out: number[] = [];
      for await (const b of batchesOf(src, { inputs })) out.push(...Array.from(b.feeds[name]!.dataSync() as ArrayLike<number | bigint>, Number));
      return out;
    };
    const rates = await values(s, 'sr');
    expect(rates).toHaveLength(24);
    expect(new Set(rates)).toEqual(new Set([16000, 8000]));
    expect(new Set(await values(s, 'input_ids')).size).toBeGreaterThan(2);
    const fixed = syntheticSource(inputs, { count: 4, values: { sr: 44100 } });
    expect(await values(fixed, 'sr')).toEqual([44100, 44100, 44100, 44100]);
    expect(fixed.description).not.toMatch(/sr from/);
  });
});
