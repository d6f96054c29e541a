import { describe, expect, it } from 'vitest';
import { runModel, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { quantizeWeightsPass } from '../src/rtn.js';
import { mixedFeeds, mixedModel, modelBytes, ortRun, relError } from './helpers.js';

describe('quantize-weights (RTN)', () => {
  const model = mixedModel();
  const feeds = mixedFeeds(16);
  let ref: Float32Array;

  const cases: [string, Record<string, unknown>, number][] = [
    ['int8 per-tensor sym qdq', { bits: 8, granularity: 'per-tensor' }, 0.02],
    ['int8 per-channel asym qdq', { bits: 8, granularity: 'per-channel', symmetric: false }, 0.02],
    ['int8 block-32 qdq', { bits: 8, granularity: 'block', blockSize: 32 }, 0.02],
    ['int4 block-32 sym qdq', { bits: 4, granularity: 'block', blockSize: 32 }, 0.15],
    ['int4 block-16 asym qdq', { bits: 4, granularity: 'block', blockSize: 16, symmetric: false }, 0.15],
    ['int4 per-channel qdq', { bits: 4, granularity: 'per-channel' }, 0.25],
    ['int3 block-32 qdq', { bits: 3, granularity: 'block', blockSize: 32 }, 0.35],
    ['int2 block-32 asym qdq', { bits: 2, granularity: 'block', symmetric: false, blockSize: 32 }, 0.7],
    ['int4 block-32 matmulnbits', { bits: 4, format: 'matmulnbits', blockSize: 32 }, 0.15],
    // default block 128: K = 100 is one block of 128, K = 64 and 48 one block of 64
    ['int4 default-block matmulnbits', { bits: 4, format: 'matmulnbits' }, 0.2],
    ['int4 block-64 asym matmulnbits', { bits: 4, format: 'matmulnbits', symmetric: false, blockSize: 64 }, 0.15],
    ['int8 block-32 matmulnbits', { bits: 8, format: 'matmulnbits', blockSize: 32 }, 0.02],
    ['int3 block-32 matmulnbits', { bits: 3, format: 'matmulnbits', blockSize: 32 }, 0.35],
    ['int2 block-16 asym matmulnbits', { bits: 2, format: 'matmulnbits', symmetric: false, blockSize: 16 }, 0.7],
  ];
  it.each(cases)('%s runs in onnxruntime and stays close', async (_name, opts, tol) => {
    ref ??= (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const { model: q, report } = await runPass(quantizeWeightsPass, model, opts);
    const out = (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!;
    const err = relError(ref, out);
    expect(err).toBeLessThan(tol);
    expect(report.stats!.bytesAfter).toBeLessThan(report.stats!.bytesBefore!);
    if (opts.format === 'matmulnbits') expect(q.graph.nodes.filter((n) => n.opType === 'MatMulNBits').length).toBe(3);
    console.log(_name, 'relErr', err.toFixed(4), 'bytes', modelBytes(model), '->', modelBytes(q));
  });

  it('2-bit MatMulNBits stores 2-bit codes (half the 4-bit container), which onnxruntime and the interpreter read alike', async () => {
    const opts = { bits: 2, format: 'matmulnbits', symmetric: false, blockSize: 16 } as const;
    const { model: q, report } = await runPass(quantizeWeightsPass, model, opts);
    const nodes = q.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
    expect(nodes.length).toBe(3);
    for (const n of nodes) {
      const a = n.attributes.get('bits');
      expect(a?.type === 'int' ? a.value : undefined).toBe(2);
      // B [N, blocks, 16 · 2 / 8 = 4 bytes]
      expect(q.graph.initializers.get(n.inputs[1]!)!.shape[2]).toBe(4);
    }
    // the Gather's table has no 2-bit form: the warning counts it
    expect(report.warnings).toContainEqual(expect.stringMatching(/^1 of the 2-bit weights stored in 4-bit containers/));
    const ort = (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!;
    const mine = await runModel(q, { x: tensor(feeds.x!.data as Float32Array, feeds.x!.dims), ids: tensor(feeds.ids!.data as BigInt64Array, feeds.ids!.dims, 'int64') });
    expect(relError(ort, (await mine.get(q.graph.outputs[0]!.name)!.data()) as Float32Array)).toBeLessThan(1e-5);
  });

  it('does not modify its input and rejects unknown options', async () => {
    const before = model.graph.nodes.length;
    await runPass(quantizeWeightsPass, model, { bits: 4 });
    expect(model.graph.nodes.length).toBe(before);
    expect(model.graph.initializers.get('w1')!.dtype).toBe('float32');
    // typed from the schema: a misspelt option does not compile, and is refused at run time
    // @ts-expect-error 'bitz' is not an option of quantize-weights
    await expect(runPass(quantizeWeightsPass, model, { bitz: 4 })).rejects.toThrow(/unknown option/);
  });
});
