import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { tensor, type Tensor } from '@whittle/tensor';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel, runModelValues } from '../src/interpreter/run.js';
import { InterpreterError } from '../src/interpreter/errors.js';
import { type RuntimeValue, isOptional, isSequence, isTensor } from '../src/interpreter/value.js';
import '../src/interpreter/ops/index.js';

const cpu = (v: number[], shape: number[], dtype: 'float32' | 'int64' | 'bool' = 'float32'): Tensor => tensor(v, shape, dtype, { backend: 'cpu' });
const values = async (v: RuntimeValue | undefined): Promise<number[]> => {
  if (!isTensor(v)) throw new Error('expected a tensor');
  return Array.from(await v.toFloat64());
};
/** The items of a sequence value, read one after the other. */
const itemValues = async (v: RuntimeValue | undefined): Promise<number[][] | null> => {
  if (!isSequence(v)) return null;
  const out: number[][] = [];
  for (const t of v.items) out.push(await values(t));
  return out;
};

/** Sequence and optional ops: construct, length, at, wrap, test, unwrap, pass through Identity. */
function valuesModel() {
  const b = new GraphBuilder('values');
  b.input('a', 'float32', [2]);
  b.input('b', 'float32', [3]);
  const s = b.node('SequenceConstruct', ['a', 'b']);
  b.output(b.node('SequenceLength', [s]), 'int64');
  b.output(b.node('SequenceAt', [s, b.initializer('last', cpu([-1], [], 'int64'))]), 'float32');
  const o = b.node('Optional', [s]);
  b.output(b.node('OptionalHasElement', [o]), 'bool');
  b.output(b.node('OptionalHasElement', [b.node('Optional', [])]), 'bool');
  b.output(b.node('Identity', [b.node('OptionalGetElement', [o])]), 'float32');
  return b.model([{ domain: '', version: 18 }]);
}

/** If whose branches return sequences built from the outer x. */
function ifSequenceModel() {
  const thenB = new GraphBuilder('then');
  thenB.output(thenB.node('SequenceConstruct', ['x', 'x']), 'float32');
  const elseB = new GraphBuilder('else');
  elseB.output(elseB.node('SequenceConstruct', [elseB.node('Neg', ['x'])]), 'float32');
  const b = new GraphBuilder('if');
  b.input('c', 'bool', []);
  b.input('x', 'float32', [2]);
  b.output(b.node('If', ['c'], { then_branch: thenB.build(), else_branch: elseB.build() }), 'float32');
  return b.model([{ domain: '', version: 18 }]);
}

describeBackends('interpreter sequence and optional values', ({ backend }) => {
  it('SequenceConstruct/Length/At, Optional, OptionalHasElement/GetElement and Identity', async () => {
    const model = valuesModel();
    const out = await runModelValues(model, { a: cpu([1, 2], [2]), b: cpu([3, 4, 5], [3]) }, { backend });
    const [len, last, has, hasEmpty, seq] = model.graph.outputs.map((o) => out.get(o.name));
    expect(await values(len)).toEqual([2]);
    expect(await values(last)).toEqual([3, 4, 5]);
    expect(await values(has)).toEqual([1]);
    expect(await values(hasEmpty)).toEqual([0]);
    expect(isSequence(seq)).toBe(true);
    const items = isSequence(seq) ? seq.items : [];
    expect(items.map((t) => t.backend)).toEqual([backend, backend]);
    expect(await itemValues(seq)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('If returns the sequence of the branch taken; sequences and optionals are fed and returned', async () => {
    const model = ifSequenceModel();
    for (const [c, want] of [
      [1, [[1, -2], [1, -2]]],
      [0, [[-1, 2]]],
    ] as const) {
      const out = await runModelValues(model, { c: cpu([c], [], 'bool'), x: cpu([1, -2], [2]) }, { backend });
      const y = out.get(model.graph.outputs[0]!.name);
      expect(await itemValues(y)).toEqual(want);
    }
    const b = new GraphBuilder('pass');
    b.input('o', 'float32', [2]);
    b.output(b.node('Identity', ['o']), 'float32');
    const fed: RuntimeValue = { kind: 'optional', value: null };
    const out = await runModelValues(b.model([{ domain: '', version: 18 }]), { o: fed }, { backend });
    const got = out.get(b.build().outputs[0]!.name);
    expect(isOptional(got) && got.value === null).toBe(true);
  });

  it('a tensor op fed a sequence, or runModel with a sequence output, gives an InterpreterError', async () => {
    const b = new GraphBuilder('bad');
    b.input('a', 'float32', [2]);
    b.output(b.node('Add', [b.node('SequenceConstruct', ['a']), 'a']), 'float32');
    await expect(runModelValues(b.model(), { a: cpu([1, 2], [2]) }, { backend })).rejects.toThrow(/is a sequence of 1; Add takes tensors/);
    const m = ifSequenceModel();
    const run = runModel(m, { c: cpu([1], [], 'bool'), x: cpu([1, 2], [2]) }, { backend });
    await expect(run).rejects.toThrow(InterpreterError);
    await expect(runModel(m, { c: cpu([1], [], 'bool'), x: cpu([1, 2], [2]) }, { backend })).rejects.toThrow(/use runModelValues/);
  });
});

describeBackends('interpreter string tensors and float64 CumSum', ({ backend }) => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  it('Equal compares string tensors byte for byte with broadcasting; the bool result is on the chosen backend', async () => {
    const b = new GraphBuilder('eq');
    b.input('a', 'string', [2, 3]);
    b.input('b', 'string', [3]);
    b.output(b.node('Equal', ['a', 'b']), 'bool');
    const a: RuntimeValue = { kind: 'strings', shape: [2, 3], values: ['x', 'héllo', 'z', 'x', 'hello', ''].map(enc) };
    const s: RuntimeValue = { kind: 'strings', shape: [3], values: ['x', 'héllo', ''].map(enc) };
    const out = (await runModelValues(b.model(), { a, b: s }, { backend })).get(b.build().outputs[0]!.name);
    expect(isTensor(out) && [out.dtype, out.backend, [...out.shape]]).toEqual(['bool', backend, [2, 3]]);
    expect(await values(out)).toEqual([1, 1, 0, 1, 0, 1]);
    // a string tensor against a numeric one is a typed error, not a crash
    const m = new GraphBuilder('mixed');
    m.input('a', 'string', [1]);
    m.input('n', 'float32', [1]);
    m.output(m.node('Equal', ['a', 'n']), 'bool');
    const bad = runModelValues(m.model(), { a: { kind: 'strings', shape: [1], values: [enc('1')] }, n: cpu([1], [1]) }, { backend });
    await expect(bad).rejects.toThrow(/Equal takes two tensors of one type; got string tensor \[1\] and tensor float32/);
  });

  it('CumSum keeps the fractions of float64 inputs (computed in float32)', async () => {
    const b = new GraphBuilder('cumsum');
    b.input('x', 'float64', [4]);
    b.output(b.node('CumSum', ['x', b.initializer('axis', cpu([0], [], 'int64'))]), 'float64');
    const out = (await runModelValues(b.model(), { x: tensor([0.5, 1.25, -2.75, 0.125], [4], 'float64', { backend: 'cpu' }) }, { backend })).get(b.build().outputs[0]!.name);
    expect(isTensor(out) && out.dtype).toBe('float64');
    expect(await values(out)).toEqual([0.5, 1.75, -1, -0.875]);
  });
});
