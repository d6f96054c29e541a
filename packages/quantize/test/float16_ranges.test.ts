/**
 * convert-float16 with measured ranges on a GPT-style decoder: the attention-mask fill (-3.4e38)
 * and anything computed from it stay float32, a MatMul whose outputs exceed 65504 stays float32,
 * and left-padded rows give no NaN; q4f16 (MatMulNBits int4 + float16) keeps float16 scales.
 */
import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { convertFloat16Pass } from '../src/float16.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { ortRun, relError } from './helpers.js';

const lm = buildDecoderLm({ seed: 2, layers: 2, dModel: 32, heads: 4, vocab: 64, maxPositions: 32 });
const rows = (seed: number) => [0, 1].map((r) => Array.from({ length: 12 }, (_, t) => (seed * 7 + r * 13 + t * 5) % 64));

function whittleFeeds(seed: number): Feeds {
  const f = decoderFeeds(lm.config, rows(seed));
  const out: Feeds = {};
  for (const [k, v] of Object.entries(f)) out[k] = v.data instanceof BigInt64Array ? tensor(v.data, v.dims, 'int64', { backend: 'cpu' }) : tensor(v.data, v.dims, 'float32', { backend: 'cpu' });
  return out;
}
async function* calib(): AsyncGenerator<Feeds> {
  for (const s of [1, 2]) yield whittleFeeds(s);
}
/** Feeds with the first 3 tokens of row 0 padded out (attention mask 0). */
function padded() {
  const f = decoderFeeds(lm.config, rows(9));
  (f.attention_mask!.data as BigInt64Array).fill(0n, 0, 3);
  return f;
}
const logits = async (m: Model, f: ReturnType<typeof padded>) => (await ortRun(m, f)).logits!;
const hasNaN = (a: Float32Array) => a.some((x) => !Number.isFinite(x));

describe('convert-float16 measured ranges (decoder LM)', () => {
  it('mask fill and the Where/Softmax reading it stay float32; left padding gives no NaN', async () => {
    const { model: h, report } = await runPass(convertFloat16Pass, lm.model, {}, { calibration: calib() });
    const measured = report.details!.measured as { batches: number; float32: { node: string; op: string; reason: string }[] };
    expect(measured.batches).toBe(2);
    // the Where reads the fill constant (kept float32 by the constant check); the measurement adds the Softmax
    expect((report.details!.float32Nodes as string[]).filter((n) => n.endsWith('/attn/Where'))).toHaveLength(2);
    expect(measured.float32.filter((f) => f.op === 'Softmax')).toHaveLength(2);
    expect(measured.float32.find((f) => f.op === 'Softmax')!.reason).toBe('reads a value beyond the float16 range');
    // the Softmax reads the Where's float32 output directly, not through a float16 Cast
    const sm = h.graph.nodes.find((n) => n.opType === 'Softmax')!;
    expect(h.graph.nodes.find((n) => n.outputs.includes(sm.inputs[0]!))!.opType).toBe('Where');
    const f = padded();
    const [ref, out] = [await logits(lm.model, f), await logits(h, f)];
    expect(hasNaN(out)).toBe(false);
    expect(relError(ref, out)).toBeLessThan(0.01);
    expect(report.warnings ?? []).toEqual([]);
  });

  it('without measuring, the mask constant still keeps its readers float32 (no -inf fill)', async () => {
    const { model: h, report } = await runPass(convertFloat16Pass, lm.model, { measure: false });
    expect((report.details!.outOfRangeConstants as string[]).length).toBeGreaterThan(0);
    expect(typeof report.details!.measured).toBe('string');
    // asked not to measure: no warning; without data to measure on: the warning says what is left unchecked
    expect(report.warnings ?? []).toEqual([]);
    const { report: blind } = await runPass(convertFloat16Pass, lm.model, {});
    expect(blind.warnings).toEqual([expect.stringMatching(/^activation ranges not measured \(no calibration data\).*overflow where float16 is computed \(WebGPU\)/)]);
    expect(hasNaN(await logits(h, decoderFeeds(lm.config, rows(3))))).toBe(false);
  });

  it('a MatMul whose outputs exceed 65504 runs in float32 and its readers too', async () => {
    const big = lm.model;
    const w = 'transformer.h.0.mlp.fc_in.weight';
    const t = big.graph.initializers.get(w)!;
    const scaled = Float32Array.from((await t.data()) as Float32Array, (x) => x * 4e5);
    const m: Model = { ...big, graph: { ...big.graph, initializers: new Map(big.graph.initializers).set(w, tensor(scaled, t.shape, 'float32', { backend: 'cpu' })) } };
    const { model: h, report } = await runPass(convertFloat16Pass, m, {}, { calibration: calib() });
    const f32 = (report.details!.measured as { float32: { node: string; reason: string }[] }).float32;
    expect(f32.find((x) => x.node === '/h.0/mlp/fc_in/MatMul')?.reason).toBe('output beyond the float16 range');
    expect(f32.find((x) => x.node === '/h.0/mlp/fc_in/Add')?.reason).toBeDefined();
    const f = decoderFeeds(lm.config, rows(4));
    const [ref, out] = [await logits(m, f), await logits(h, f)];
    expect(hasNaN(out)).toBe(false);
    expect(relError(ref, out)).toBeLessThan(0.02);
  });

  it('q4f16: MatMulNBits int4 with float16 scales and activations, close to q4 in onnxruntime', async () => {
    const q4 = (await runPass(quantizeWeightsPass, lm.model, { bits: 4, blockSize: 16, format: 'matmulnbits', ops: ['MatMul'] })).model;
    const { model: h } = await runPass(convertFloat16Pass, q4, {}, { calibration: calib() });
    const nbits = h.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits.length).toBe(12);
    for (const n of nbits) expect(h.graph.initializers.get(n.inputs[2]!)!.dtype).toBe('float16');
    const f = padded();
    const [ref, out] = [await logits(q4, f), await logits(h, f)];
    expect(hasNaN(out)).toBe(false);
    expect(relError(ref, out)).toBeLessThan(0.01);
  });
});
