/**
 * MatMulNBits knobs in onnxruntime-node: int4 and int8, symmetric and asymmetric (zero points
 * packed as the contrib-op spec says), block sizes 16-128, accuracy_level 0/1/4, each against
 * x · dequantized(W) computed here; and an embedding table tied with the LM head, stored once.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { quantizeWeightsPass } from '../src/rtn.js';
import { canonical, dequantizeWeight, quantizeRtn } from '../src/weights.js';
import { gathersWebGpuRefuses } from '../src/gather_webgpu.js';
import { modelBytes, ortRun, randomArray, relError } from './helpers.js';

const K = 96; // not a multiple of 64/128: the last block is padded
const N = 40;
const rng = new Rng(11);
const w = randomArray(K * N, rng, 0.1);
const x = randomArray(3 * K, rng);
const b = new GraphBuilder('mm');
b.output(b.node('MatMul', [b.input('x', 'float32', [3, K]), b.initializer('w', tensor(w, [K, N], 'float32', { backend: 'cpu' }))], {}, { name: 'mm' }), 'float32', [3, N]);
const model = b.model([{ domain: '', version: 17 }]);

/** x [3, K] · dequantized W, W canonical [N, K]. */
function reference(bits: number, symmetric: boolean, blockSize: number): Float32Array {
  const q = quantizeRtn(canonical({ rowAxis: 1, rows: N, cols: K }, w), N, K, { bits, symmetric, granularity: 'block', blockSize });
  const d = dequantizeWeight(q);
  const y = new Float32Array(3 * N);
  for (let m = 0; m < 3; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += x[m * K + k]! * d[n * K + k]!;
    y[m * N + n] = s;
  }
  return y;
}

describe('MatMulNBits knobs in onnxruntime', () => {
  for (const bits of [4, 8]) {
    for (const symmetric of [true, false]) {
      it(`int${bits} ${symmetric ? 'symmetric' : 'asymmetric'}: blocks 16/32/64/128 and accuracy levels 0/1/4 match x · dequantized W`, async () => {
        for (const blockSize of [16, 32, 64, 128]) {
          const ref = reference(bits, symmetric, blockSize);
          for (const accuracyLevel of [0, 1, 4]) {
            const { model: q } = await runPass(quantizeWeightsPass, model, { bits, symmetric, blockSize, format: 'matmulnbits', accuracyLevel });
            const node = q.graph.nodes.find((n) => n.opType === 'MatMulNBits')!;
            expect(node.attributes.get('bits')?.value).toBe(bits);
            expect(node.attributes.get('block_size')?.value).toBe(Math.min(blockSize, 128));
            if (accuracyLevel) expect(node.attributes.get('accuracy_level')?.value).toBe(accuracyLevel);
            const y = (await ortRun(q, { x: { data: x, dims: [3, K] } })).y ?? Object.values(await ortRun(q, { x: { data: x, dims: [3, K] } }))[0]!;
            // level 4 quantizes the activations to int8 per block: a small extra error
            expect(relError(ref, y)).toBeLessThan(accuracyLevel === 4 ? 0.02 : 1e-5);
          }
        }
      });
    }
  }
});

describe('embedding table tied with the LM head (decoder LM)', () => {
  const lm = buildDecoderLm({ seed: 4, layers: 1, dModel: 64, heads: 4, vocab: 96, maxPositions: 16 });
  const feeds = decoderFeeds(lm.config, [[1, 5, 9, 33, 70, 2], [3, 3, 90, 41, 7, 0]]);
  const table = 'transformer.wte.weight';
  for (const symmetric of [true, false]) {
    it(`shared (${symmetric ? 'symmetric' : 'asymmetric'}): one code tensor read by GatherBlockQuantized and the head's MatMulNBits; logits as the separately stored forms`, async () => {
      const opts = { bits: 4, blockSize: 32, format: 'matmulnbits', symmetric } as const;
      const { model: shared, report } = await runPass(quantizeWeightsPass, lm.model, { ...opts, tiedHead: 'shared' });
      const g = shared.graph;
      expect(g.initializers.has(table)).toBe(false);
      const gbq = g.nodes.find((n) => n.opType === 'GatherBlockQuantized')!;
      const head = g.nodes.find((n) => n.opType === 'MatMulNBits' && n.outputs[0] === 'logits')!;
      // symmetric: the codes as [V, nb, bs] blocks; asymmetric (an even block count): reshaped to
      // [V, D/2] with the head's packed zero points, the layout onnxruntime-web's WebGPU kernel reads
      const source = (x: string): string => g.nodes.find((n) => n.opType === 'Reshape' && n.outputs[0] === x)?.inputs[0] ?? x;
      expect(source(gbq.inputs[0]!)).toBe(head.inputs[1]);
      expect(gbq.attributes.get('quantize_axis')?.value).toBe(symmetric ? 2 : 1);
      if (!symmetric) expect(source(gbq.inputs[3]!)).toBe(head.inputs[3]);
      expect([...g.initializers.keys()].filter((k) => k.includes('gather_zero_points'))).toEqual([]);
      expect(gathersWebGpuRefuses(shared)).toEqual([]);
      expect(g.nodes.some((n) => n.opType === 'Transpose' && n.inputs[0] === table)).toBe(false);
      expect(g.initializers.get(head.inputs[1]!)!.shape).toEqual([96, 2, 16]);
      const tied = report.details!.tied as { mode: string; bytesAfter: number; bytesBefore: number }[];
      expect(tied[0]!.mode).toBe('shared');
      expect(tied[0]!.bytesAfter).toBeLessThan(tied[0]!.bytesBefore / 5);
      // the 'float' form stores the gather's 4-bit copy plus the float head; its gather uses the same codes
      const { model: float } = await runPass(quantizeWeightsPass, lm.model, { ...opts, tiedHead: 'float' });
      const { model: int8 } = await runPass(quantizeWeightsPass, lm.model, { ...opts, tiedHead: 'int8' });
      expect(modelBytes(shared)).toBeLessThan(modelBytes(int8));
      expect(modelBytes(int8)).toBeLessThan(modelBytes(float));
      // the gather and the head both read exactly the 4-bit table: same logits as the float
      // table replaced by its dequantized values (other MatMuls quantized alike)
      const wte = (await lm.model.graph.initializers.get(table)!.data()) as Float32Array;
      const qt = quantizeRtn(canonical({ rowAxis: 0, rows: 96, cols: 64 }, wte), 96, 64, { bits: 4, symmetric, granularity: 'block', blockSize: 32 });
      const expected = (await runPass(quantizeWeightsPass, lm.model, { ...opts, excludeNodes: ['/wte/Gather'] })).model;
      expected.graph.initializers.set(table, tensor(Float32Array.from(dequantizeWeight(qt)), [96, 64], 'float32', { backend: 'cpu' }));
      const [e, s, f, i8] = await Promise.all([expected, shared, float, int8].map(async (m) => (await ortRun(m, feeds)).logits!));
      expect(relError(e!, s!)).toBeLessThan(1e-4);
      // float / int8 heads differ from it only in the head
      for (const other of [f!, i8!]) expect(relError(e!, other)).toBeGreaterThan(1e-4);
      const ref = (await ortRun(lm.model, feeds)).logits!;
      expect(relError(ref, f!)).toBeLessThan(relError(ref, s!));
    });
  }
  it('shared (asymmetric, an odd block count): the gather keeps one zero point per block; logits as the separately stored forms', async () => {
    const odd = buildDecoderLm({ seed: 5, layers: 1, dModel: 96, heads: 4, vocab: 80, maxPositions: 16 });
    const opts = { bits: 4, blockSize: 32, format: 'matmulnbits', symmetric: false } as const;
    const { model: shared, report } = await runPass(quantizeWeightsPass, odd.model, { ...opts, tiedHead: 'shared' });
    const gbq = shared.graph.nodes.find((n) => n.opType === 'GatherBlockQuantized')!;
    // onnxruntime-web's WebGPU kernel cannot read these zero points: said
    // (the shared table's gather and the untied position table's: both 3 blocks per row)
    expect(gathersWebGpuRefuses(shared).sort()).toEqual(shared.graph.nodes.filter((n) => n.opType === 'GatherBlockQuantized').map((n) => n.name).sort());
    expect(gathersWebGpuRefuses(shared)).toContain(gbq.name);
    expect(report.warnings?.some((w) => /2 GatherBlockQuantized node\(s\) store asymmetric zero points onnxruntime-web's WebGPU provider cannot read/.test(w))).toBe(true);
    expect(gbq.attributes.get('quantize_axis')?.value).toBe(2);
    expect(shared.graph.initializers.get(gbq.inputs[3]!)?.shape).toEqual([80, 3, 1]);
    const wte = (await odd.model.graph.initializers.get(table)!.data()) as Float32Array;
    const qt = quantizeRtn(canonical({ rowAxis: 0, rows: 80, cols: 96 }, wte), 80, 96, { bits: 4, symmetric: false, granularity: 'block', blockSize: 32 });
    const expected = (await runPass(quantizeWeightsPass, odd.model, { ...opts, excludeNodes: ['/wte/Gather'] })).model;
    expected.graph.initializers.set(table, tensor(Float32Array.from(dequantizeWeight(qt)), [80, 96], 'float32', { backend: 'cpu' }));
    const oddFeeds = decoderFeeds(odd.config, [[1, 5, 9, 33, 70, 2]]);
    const [e, s] = await Promise.all([expected, shared].map(async (m) => (await ortRun(m, oddFeeds)).logits!));
    expect(relError(e!, s!)).toBeLessThan(1e-4);
  });

  it('8-bit tables are left to the generic writer with a warning (shared needs 4-bit codes)', async () => {
    const { model: q, report } = await runPass(quantizeWeightsPass, lm.model, { bits: 8, blockSize: 32, format: 'matmulnbits' });
    expect(report.warnings!.some((w) => /tied LM head left to the generic writer/.test(w))).toBe(true);
    expect(q.graph.nodes.some((n) => n.opType === 'GatherBlockQuantized')).toBe(false);
  });
});
