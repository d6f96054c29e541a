import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { randn } from './helpers.js';

/** x [N,16] → MatMul [16,32] → Relu → MatMul [32,8]. */
function mlp(): Model {
  const rng = new Rng(5);
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 16]);
  const h = b.node('Relu', [b.node('MatMul', [x, b.initializer('w1', tensor(randn(rng, 16 * 32, 0.3), [16, 32], 'float32', { backend: 'cpu' }))], {}, { name: 'fc1' })]);
  const y = b.node('MatMul', [h, b.initializer('w2', tensor(randn(rng, 32 * 8, 0.3), [32, 8], 'float32', { backend: 'cpu' }))], {}, { name: 'fc2' });
  b.output(y, 'float32', ['N', 8]);
  return b.model([{ domain: '', version: 17 }]);
}

/** Σ K·M over the MatMul weights: the multiply-adds per sample. */
function macs(m: Model): number {
  let s = 0;
  for (const n of m.graph.nodes) if (n.opType === 'MatMul') s += m.graph.initializers.get(n.inputs[1]!)!.shape.reduce((a, b) => a * b, 1);
  return s;
}

describe('pruning reports say what the runtime gains', () => {
  it('unstructured and 2:4 say onnxruntime runs the model dense: smaller file, not faster', async () => {
    for (const [pass, opts] of [['prune-unstructured', { sparsity: 0.5 }], ['prune-nm', { n: 2, m: 4 }]] as const) {
      const { report } = await runPass(pass, mlp(), opts);
      expect(report.changed).toBe(true);
      expect(report.summary, pass).toMatch(/onnxruntime runs this dense: smaller file \(gzip\), not faster/);
      expect(report.details!.runtime).toMatch(/not faster/);
    }
  });

  it('structured reports the FLOP reduction next to the size, matching the pruned shapes', async () => {
    const m = mlp();
    const { model: out, report } = await runPass('prune-structured', m, { sparsity: 0.5 });
    expect(report.changed).toBe(true);
    const expected = 1 - macs(out) / macs(m);
    expect(expected).toBeGreaterThan(0);
    expect(report.stats!.flopsReduction).toBeCloseTo(expected, 6);
    expect(report.summary).toContain(`−${(expected * 100).toFixed(1)} % FLOPs`);
    expect(report.summary).toMatch(/weights \d+ → \d+ bytes/);
  });
});
