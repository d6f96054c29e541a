import { describe, expect, it } from 'vitest';
import { GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { runSequential } from '../src/sequential.js';
import { gptqPass } from '../src/gptq.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { encoderInput, transformerEncoder } from './models.js';
import { ortRun, randTensor, relError } from './helpers.js';

const cpu = { backend: 'cpu' } as const;

function twoLayers() {
  const rng = new Rng(5);
  const b = new GraphBuilder('two');
  const x = b.input('x', 'float32', ['N', 4]);
  const h = b.node('Relu', [b.node('MatMul', [x, b.initializer('w1', randTensor([4, 3], rng))], {}, { name: 'mm1' })], {}, { name: 'relu' });
  const y = b.node('MatMul', [h, b.initializer('w2', randTensor([3, 2], rng))], {}, { name: 'mm2' });
  b.output(y, 'float32', ['N', 2]);
  return { model: b.model([{ domain: '', version: 17 }]), h };
}

describe('runSequential', () => {
  it('later layers see the weights the visitor wrote for earlier layers', async () => {
    const { model, h } = twoLayers();
    const xs = [0, 1].map((i) => Float32Array.from({ length: 8 }, (_, k) => Math.sin(k + i * 3)));
    const batches = xs.map((x) => ({ x: tensor(x, [2, 4], 'float32', cpu) }));
    const w1 = Float32Array.from({ length: 12 }, (_, k) => (k % 5) - 2);
    const seen: Record<string, Float32Array[]> = {};
    const n = await runSequential(model, ['x', h], batches, async (name, values) => {
      seen[name] = await Promise.all(values.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
      if (name === 'x') model.graph.initializers.set('w1', tensor(w1, [4, 3], 'float32', cpu));
    });
    expect(n).toBe(2);
    expect(Object.keys(seen)).toEqual(['x', h]);
    for (const [b, x] of xs.entries()) {
      const want = new Float32Array(6);
      for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += x[r * 4 + k]! * w1[k * 3 + c]!;
        want[r * 3 + c] = Math.max(0, s);
      }
      expect(Array.from(seen[h]![b]!)).toEqual(Array.from(want).map((v) => expect.closeTo(v, 5)));
    }
  });
  it('reads a batches() source (fresh iterable per call) like a plain iterable', async () => {
    const { model } = twoLayers();
    const feeds = [0, 1, 2].map((i) => ({ x: tensor(Float32Array.from({ length: 8 }, (_, k) => k - i), [2, 4], 'float32', cpu) }));
    let calls = 0;
    const source = { batches: () => { calls++; return feeds; } };
    const firsts: number[] = [];
    const n = await runSequential(model, ['x'], source, async (_name, values) => {
      for (const v of values) firsts.push(((await v.data()) as Float32Array)[0]!);
    });
    expect([n, calls]).toEqual([3, 1]);
    expect(firsts).toEqual([0, -1, -2]);
  });
  it('names no node reads are refused by name', async () => {
    const { model } = twoLayers();
    await expect(runSequential(model, ['nope'], [], () => undefined)).rejects.toThrow(/'nope'/);
  });
});

describe('gptq sequential', () => {
  it('calibrates later layers on the quantized model; runs in onnxruntime close to float', async () => {
    const model = transformerEncoder(3, 32, 8, 2);
    const calib = async function* () {
      for (const i of [0, 1, 2]) {
        const e = encoderInput(8, 40 + i);
        yield { x: tensor(e.data, e.dims, 'float32', cpu) };
      }
    };
    const seq = await runPass(gptqPass, model, { bits: 4, blockSize: 16, format: 'matmulnbits' }, { calibration: calib() });
    const shot = await runPass(gptqPass, model, { bits: 4, blockSize: 16, format: 'matmulnbits', sequential: false }, { calibration: calib() });
    expect(seq.report.details!.sequential).toBe(true);
    expect(seq.report.details!.batches).toBe(3);
    const ls = seq.report.details!.layers as { weight: string; gptqOutputMse: number; rtnOutputMse: number }[];
    const lo = shot.report.details!.layers as typeof ls;
    expect(ls.length).toBe(12);
    for (const l of ls) expect(l.gptqOutputMse).toBeLessThan(l.rtnOutputMse);
    // first layer's inputs are the graph input in both modes; the second layer's differ (quantized first layer)
    const mse = (l: typeof ls, w: string) => l.find((x) => x.weight === w)!.rtnOutputMse;
    expect(mse(ls, 'l0.wq')).toBeCloseTo(mse(lo, 'l0.wq'), 12);
    expect(mse(ls, 'l1.w2')).not.toBeCloseTo(mse(lo, 'l1.w2'), 12);
    const e = encoderInput(4, 99);
    const feeds = { x: { data: e.data, dims: e.dims } };
    const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
    const out = (await ortRun(seq.model, feeds))[seq.model.graph.outputs[0]!.name]!;
    const rtn = (await runPass(quantizeWeightsPass, model, { bits: 4, blockSize: 16, format: 'matmulnbits' })).model;
    const outRtn = (await ortRun(rtn, feeds))[rtn.graph.outputs[0]!.name]!;
    expect(relError(ref, out)).toBeLessThan(relError(ref, outRtn));
  });
});
