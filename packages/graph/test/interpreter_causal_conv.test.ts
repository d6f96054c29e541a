import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import { cpu, oneNode, randn, runOrt } from './interpreter_harness.js';

/**
 * CausalConvWithState on cpu and webgpu against onnxruntime-node running the op's function body
 * (past state concatenated before the input, depthwise Conv with bias, SiLU, the last K−1 padded
 * steps as the new state), on a prefill with past state and a one-step decode.
 */
const [B, C, K] = [2, 5, 4];

function expanded(t: number): ReturnType<GraphBuilder['model']> {
  const b = new GraphBuilder('causal_conv_expanded');
  b.input('x', 'float32', [B, C, t]);
  b.input('w', 'float32', [C, 1, K]);
  b.input('bias', 'float32', [C]);
  b.input('past', 'float32', [B, C, K - 1]);
  const padded = b.node('Concat', ['past', 'x'], { axis: 2 });
  const conv = b.node('Conv', [padded, 'w', 'bias'], { group: C });
  b.output(b.node('Mul', [conv, b.node('Sigmoid', [conv])]), 'float32');
  const i64 = (name: string, v: number): string => b.initializer(name, cpu([v], [1], 'int64'));
  b.output(b.node('Slice', [padded, i64('start', t), i64('end', t + K - 1), i64('axis', 2)]), 'float32');
  return b.model([{ domain: '', version: 21 }]);
}

describeBackends('CausalConvWithState', ({ backend }) => {
  for (const t of [7, 1]) {
    it(`matches its function body in onnxruntime (T = ${t})`, async () => {
      const feeds = { x: randn([B, C, t], t), w: randn([C, 1, K], 2), bias: randn([C], 3), past: randn([B, C, K - 1], 4) };
      const want = await runOrt(expanded(t), feeds);
      const model = oneNode({ op: 'CausalConvWithState', feeds, inputs: ['x', 'w', 'bias', 'past'], attrs: { activation: 'silu' }, outputs: ['float32', 'float32'], opset: 27 });
      const out = await runModel(model, feeds, { backend });
      for (let i = 0; i < 2; i++) {
        const got = out.get(model.graph.outputs[i]!.name)!;
        expect([...got.shape]).toEqual(want[i]!.shape);
        const g = await got.toFloat64();
        want[i]!.data.forEach((v, k) => expect(g[k]).toBeCloseTo(v, 5));
      }
    });
  }
});
