import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type ActivationRuntime, type Feeds, GraphBuilder, runPass, runSequential } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { gptqPass } from '../src/gptq.js';
import { encoderInput, transformerEncoder } from './models.js';
import { randTensor } from './helpers.js';

const cpu = { backend: 'cpu' } as const;
const onnxruntime = ortActivationRuntime(ort as unknown as OrtModuleLike);

/** onnxruntime, counting the segment models it is asked to open. */
function counting(): { runtime: ActivationRuntime; opened: string[][] } {
  const opened: string[][] = [];
  return { opened, runtime: { name: 'onnxruntime', open: (m, fetch, o) => (opened.push(m.graph.nodes.map((n) => n.name ?? '')), onnxruntime.open(m, fetch, o)) } };
}

const encoderBatches = (): Feeds[] => [0, 1, 2].map((i) => {
  const e = encoderInput(8, 40 + i);
  return { x: tensor(e.data, e.dims, 'float32', cpu) };
});

async function* each(feeds: Feeds[]): AsyncGenerator<Feeds> {
  yield* feeds;
}

async function visited(model: ReturnType<typeof transformerEncoder>, names: string[], opts: Parameters<typeof runSequential>[4]): Promise<Map<string, Float32Array[]>> {
  const seen = new Map<string, Float32Array[]>();
  await runSequential(model, names, encoderBatches(), async (name, values) => {
    seen.set(name, await Promise.all(values.map(async (v) => Float32Array.from((await v.data()) as Float32Array))));
  }, opts);
  return seen;
}

describe('runSequential in an activation runtime', () => {
  it('runs every segment in onnxruntime; the values visited match the interpreter', async () => {
    const model = transformerEncoder(3, 32, 8, 2);
    const names = [...new Set(model.graph.nodes.filter((n) => n.opType === 'MatMul' && model.graph.initializers.has(n.inputs[1]!)).map((n) => n.inputs[0]!))];
    const { runtime, opened } = counting();
    const a = await visited(model, names, { runtime: 'interpreter' });
    const b = await visited(model, names, { activationRuntime: runtime });
    // one session per segment ending at a stop (every stop follows a LayerNorm or an attention block)
    expect(names).not.toContain('x');
    expect(opened.length).toBe(names.length);
    expect(opened.flat().length).toBeGreaterThan(0);
    for (const n of names) {
      const [va, vb] = [a.get(n)!, b.get(n)!];
      expect(vb.length).toBe(3);
      for (let k = 0; k < 3; k++) {
        const scale = Math.max(...va[k]!.map(Math.abs));
        for (let i = 0; i < va[k]!.length; i++) expect(Math.abs(va[k]![i]! - vb[k]![i]!), n).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });

  it('a segment passing on a value that is not float32 runs in the interpreter; so does one the runtime cannot load under auto', async () => {
    const rng = new Rng(5);
    const b = new GraphBuilder('ints');
    const x = b.input('x', 'float32', ['N', 4]);
    const ci = b.node('Cast', [x], { to: 6 }, { name: 'to_int' });
    const h = b.node('Relu', [b.node('MatMul', [x, b.initializer('w1', randTensor([4, 3], rng))], {}, { name: 'mm1' })], {}, { name: 'relu' });
    const y = b.node('MatMul', [h, b.initializer('w2', randTensor([3, 2], rng))], {}, { name: 'mm2' });
    const y2 = b.node('MatMul', [b.node('Cast', [ci], { to: 1 }, { name: 'to_float' }), b.initializer('w3', randTensor([4, 2], rng))], {}, { name: 'mm3' });
    b.output(b.node('Add', [y, y2], {}, { name: 'add' }), 'float32', ['N', 2]);
    const model = b.model([{ domain: '', version: 17 }]);
    const batches = [0, 1].map((i) => ({ x: tensor(Float32Array.from({ length: 8 }, (_, k) => Math.sin(k + i) * 3), [2, 4], 'float32', cpu) }));
    const run = async (opts: Parameters<typeof runSequential>[4]): Promise<Float32Array[]> => {
      let got: Float32Array[] = [];
      await runSequential(model, ['x', h], batches, async (name, values) => {
        if (name === h) got = await Promise.all(values.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
      }, opts);
      return got;
    };
    const { runtime, opened } = counting();
    const want = await run({ runtime: 'interpreter' });
    expect(await run({ activationRuntime: runtime })).toEqual(want);
    expect(opened).toEqual([]);
    // a runtime that cannot load a segment: 'auto' warns and uses the interpreter, a forced runtime fails
    const failing: ActivationRuntime = { name: 'broken', open: () => Promise.reject(new Error('cannot load')) };
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined, debug: () => undefined };
    const model2 = transformerEncoder(4, 32, 8, 1);
    const names = [...new Set(model2.graph.nodes.filter((n) => n.opType === 'MatMul' && model2.graph.initializers.has(n.inputs[1]!)).map((n) => n.inputs[0]!))];
    const plain = await visited(model2, names, { runtime: 'interpreter' });
    const fellBack = await visited(model2, names, { activationRuntime: failing, logger });
    for (const n of names) expect(fellBack.get(n)).toEqual(plain.get(n));
    expect(warnings.length).toBe(names.length);
    expect(warnings[0]).toMatch(/broken could not load a forward segment \(cannot load\)/);
    await expect(visited(model2, names, { activationRuntime: failing, runtime: 'onnxruntime' })).rejects.toThrow(/cannot load/);
  });
});

describe('gptq with calibration forwards in onnxruntime', () => {
  it('quantizes as with the interpreter (layer errors equal to float rounding, codes almost all equal)', async () => {
    const model = transformerEncoder(3, 32, 8, 2);
    const opts = { bits: 4, blockSize: 16, format: 'qdq' } as const;
    const a = await runPass(gptqPass, model, opts, { calibration: each(encoderBatches()), calibrationRuntime: 'interpreter' });
    const b = await runPass(gptqPass, model, opts, { calibration: each(encoderBatches()), activationRuntime: onnxruntime });
    type Layer = { weight: string; gptqOutputMse: number; rtnOutputMse: number };
    const la = a.report.details!.layers as Layer[];
    const lb = b.report.details!.layers as Layer[];
    expect(lb.map((l) => l.weight)).toEqual(la.map((l) => l.weight));
    for (const [i, l] of la.entries()) {
      expect(Math.abs(lb[i]!.rtnOutputMse / l.rtnOutputMse - 1), l.weight).toBeLessThan(1e-4);
      expect(Math.abs(lb[i]!.gptqOutputMse / l.gptqOutputMse - 1), l.weight).toBeLessThan(0.02);
    }
    let same = 0;
    let total = 0;
    for (const [name, t] of a.model.graph.initializers) {
      if (!/^u?int(4|8)$/.test(t.dtype)) continue;
      const [da, db] = [t.dataSync() as ArrayLike<number>, b.model.graph.initializers.get(name)!.dataSync() as ArrayLike<number>];
      for (let i = 0; i < da.length; i++) same += da[i] === db[i] ? 1 : 0;
      total += da.length;
    }
    expect(total).toBeGreaterThan(0);
    expect(same / total).toBeGreaterThan(0.99);
  });
});
