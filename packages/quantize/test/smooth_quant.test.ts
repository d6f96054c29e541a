import { describe, expect, it } from 'vitest';
import { type Feeds, GraphBuilder, PassDataError, runPass, validateModel } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { ortRun, relError } from './helpers.js';

/** x [N, 32] → MatMul [32, 24] → Relu → Gemm (transB) [16, 24] → y. */
function model() {
  const rng = new Rng(1);
  const w = (r: number, c: number) => tensor(Float32Array.from({ length: r * c }, () => rng.normal() * 0.2), [r, c]);
  const b = new GraphBuilder('smooth');
  let x = b.input('x', 'float32', ['N', 32]);
  x = b.node('Relu', [b.node('MatMul', [x, b.initializer('w1', w(32, 24))], {}, { name: 'mm' })]);
  b.output(b.node('Gemm', [x, b.initializer('w2', w(16, 24))], { transB: 1 }, { name: 'gemm' }), 'float32', ['N', 16]);
  return b.model([{ domain: '', version: 17 }]);
}

/** Activations with two outlier channels (x30), as in LLM activations SmoothQuant targets. */
function input(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * 32 }, (_, i) => rng.normal() * (i % 32 === 3 || i % 32 === 17 ? 30 : 1));
}

async function* calibration(): AsyncGenerator<Feeds> {
  for (let b = 0; b < 4; b++) yield { x: tensor(input(32, 10 + b), [32, 32]) };
}

describe('smooth-quant', () => {
  it('preserves the float function and lowers the error of static int8 quantization', async () => {
    const m = model();
    const feeds = { x: { data: input(64, 5), dims: [64, 32] } };
    const ref = Object.values(await ortRun(m, feeds))[0]!;
    const s = await runPass('smooth-quant', m, { alpha: 0.5 }, { calibration: calibration() });
    validateModel(s.model);
    expect(s.report.stats!.layers).toBe(2);
    const smoothed = Object.values(await ortRun(s.model, feeds))[0]!;
    expect(relError(ref, smoothed)).toBeLessThan(1e-5);
    const plain = (await runPass('quantize-static', m, { perChannel: true }, { calibration: calibration() })).model;
    const both = (await runPass('quantize-static', s.model, { perChannel: true }, { calibration: calibration() })).model;
    const ePlain = relError(ref, Object.values(await ortRun(plain, feeds))[0]!);
    const eBoth = relError(ref, Object.values(await ortRun(both, feeds))[0]!);
    expect(eBoth).toBeLessThan(ePlain * 0.7);
    await expect(runPass('smooth-quant', m, {})).rejects.toThrow(PassDataError);
  });
});
