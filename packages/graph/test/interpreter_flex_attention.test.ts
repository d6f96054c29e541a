import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import { cpu, randn, runOrt } from './interpreter_harness.js';

/**
 * ai.onnx.preview FlexAttention with a soft-capping score_mod and a scaling prob_mod (subgraphs
 * reading outer-scope values), on cpu and webgpu, against the same attention written with
 * standard ops in onnxruntime-node.
 */
const [B, H, L, S, E, EV] = [2, 3, 4, 5, 6, 3];
const [SCALE, CAP, P] = [0.3, 2.5, 0.8];

function flexModel() {
  const scoreMod = new GraphBuilder('score_mod');
  scoreMod.input('scores', 'float32', [B, H, L, S]);
  scoreMod.output(scoreMod.node('Mul', [scoreMod.node('Tanh', [scoreMod.node('Div', ['scores', 'cap'])]), 'cap']), 'float32');
  const probMod = new GraphBuilder('prob_mod');
  probMod.input('probs', 'float32', [B, H, L, S]);
  probMod.output(probMod.node('Mul', ['probs', 'p']), 'float32');
  const b = new GraphBuilder('flex');
  for (const [n, e] of [['q', E], ['k', E], ['v', EV]] as const) b.input(n, 'float32', [B, H, n === 'q' ? L : S, e]);
  b.initializer('cap', cpu([CAP], []));
  b.initializer('p', cpu([P], []));
  const y = b.node('FlexAttention', ['q', 'k', 'v'], { scale: SCALE, score_mod: scoreMod.build(), prob_mod: probMod.build() }, { domain: 'ai.onnx.preview', floatAttrs: ['scale'] });
  b.output(y, 'float32');
  return b.model([{ domain: '', version: 26 }, { domain: 'ai.onnx.preview', version: 1 }]);
}

function plainModel() {
  const b = new GraphBuilder('plain');
  for (const [n, e] of [['q', E], ['k', E], ['v', EV]] as const) b.input(n, 'float32', [B, H, n === 'q' ? L : S, e]);
  const c = (name: string, v: number): string => b.initializer(name, cpu([v], []));
  const scores = b.node('Mul', [b.node('MatMul', ['q', b.node('Transpose', ['k'], { perm: [0, 1, 3, 2] })]), c('scale', SCALE)]);
  const capped = b.node('Mul', [b.node('Tanh', [b.node('Div', [scores, c('cap', CAP)])]), 'cap']);
  const probs = b.node('Mul', [b.node('Softmax', [capped], { axis: 3 }), c('p', P)]);
  b.output(b.node('MatMul', [probs, 'v']), 'float32');
  return b.model([{ domain: '', version: 21 }]);
}

describeBackends('FlexAttention', ({ backend }) => {
  it('score_mod and prob_mod subgraphs match the attention written with standard ops', async () => {
    const feeds = { q: randn([B, H, L, E], 1), k: randn([B, H, S, E], 2), v: randn([B, H, S, EV], 3) };
    const [want] = await runOrt(plainModel(), feeds);
    const model = flexModel();
    const got = (await runModel(model, feeds, { backend })).get(model.graph.outputs[0]!.name)!;
    expect([...got.shape]).toEqual(want!.shape);
    const g = await got.toFloat64();
    want!.data.forEach((v, i) => expect(g[i]).toBeCloseTo(v, 5));
  });
});
