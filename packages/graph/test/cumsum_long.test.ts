/**
 * CumSum over long axes (Deep Compression's relative indices: 20k gaps) and integers: a running
 * sum, not an n×n triangular matmul (400M entries crashed V8), equal to a running sum written here,
 * for every exclusive / reverse combination, float32 and int64, along an inner axis too.
 */
import { expect, it } from 'vitest';
import { tensor } from '@whittle/tensor';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import '../src/interpreter/ops/index.js';

function reference(x: number[], rows: number, n: number, exclusive: boolean, reverse: boolean): number[] {
  const out = new Array<number>(x.length).fill(0);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let k = 0; k < n; k++) {
      const j = reverse ? n - 1 - k : k;
      const v = x[r * n + j]!;
      if (exclusive) out[r * n + j] = acc;
      acc += v;
      if (!exclusive) out[r * n + j] = acc;
    }
  }
  return out;
}

it('CumSum along a 20,000-long axis (int64 and float32, exclusive and reverse) equals a running sum', async () => {
  const rows = 2;
  const n = 20_000;
  const ints = Array.from({ length: rows * n }, (_, i) => ((i * 7919) % 13) - 3);
  for (const dtype of ['int64', 'float32'] as const) {
    for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const b = new GraphBuilder('cumsum');
      const x = b.input('x', dtype, [rows, n]);
      b.output(b.node('CumSum', [x, b.initializer('axis', tensor(BigInt64Array.of(1n), [], 'int64', { backend: 'cpu' }))], { exclusive: { type: 'int', value: exclusive }, reverse: { type: 'int', value: reverse } }), dtype, [rows, n]);
      const m = b.model([{ domain: '', version: 14 }]);
      const feed = dtype === 'int64' ? tensor(BigInt64Array.from(ints.map(BigInt)), [rows, n], 'int64', { backend: 'cpu' }) : tensor(Float32Array.from(ints), [rows, n], 'float32', { backend: 'cpu' });
      const out = (await runModel(m, { x: feed })).get(m.graph.outputs[0]!.name)!;
      expect(out.dtype).toBe(dtype);
      expect(Array.from(await out.toFloat64())).toEqual(reference(ints, rows, n, exclusive === 1, reverse === 1));
    }
  }
});
