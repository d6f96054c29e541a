/**
 * Same seed → same bytes, for every registered pass. Each pass runs twice on the same model with
 * the same seed, data and options (training passes shortened to one epoch on a small slice, so
 * their shuffling, augmentation and initialisation are exercised), and the written files must be
 * identical. A pass that is added later is covered automatically: the test fails for any
 * registered pass it could not run.
 */
import { describe, expect, it } from 'vitest';
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import '@whittle/distill';
import { convNetTemplate, getPass, listPasses, runPass, type Feeds, type Model, type PassContextInit } from '@whittle/graph';
import { interpreterTeacher } from '@whittle/distill';
import { readModel, writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { mnistData } from '@whittle/testing/zoo';

/** Shorter runs for passes that train or calibrate; everything else runs with its defaults. */
const OPTIONS: Record<string, Record<string, unknown>> = {
  'cluster-weights': { fineTuneEpochs: 1, clusters: 8, init: 'kmeans++' },
  distill: { epochs: 1, shift: 1, mixup: 0.4 },
  'prune-gradual': { epochs: 1, shift: 1, frequency: 2 },
  qat: { epochs: 1 },
  'fine-tune': { epochs: 1 },
  lowrank: { fineTuneEpochs: 1, svd: 'randomized', randomizedMinDim: 16 },
  'lowrank-linear': { svd: 'randomized', randomizedMinDim: 16 },
  'prune-sensitivity': { calibrationBatches: 2, levels: [0.5, 0.9] },
  'quantize-mixed': { maxBatches: 2 },
  'smooth-quant': { maxBatches: 2 },
};

const N = 192;

async function context(seed: number, teacher: Model): Promise<PassContextInit> {
  const { train } = await mnistData();
  const x = train.images.slice(0, N * 784);
  const labels = train.labels.slice(0, N);
  async function* calibration(): AsyncGenerator<Feeds> {
    for (let s = 0; s < 128; s += 64) yield { input: tensor(x.slice(s * 784, (s + 64) * 784), [64, 1, 28, 28], 'float32', { backend: 'cpu' }) };
  }
  return {
    seed,
    training: { x, labels, sampleShape: [1, 28, 28], inputName: 'input' },
    calibration: calibration(),
    resources: { teacher: interpreterTeacher(teacher) },
  };
}

function smallCnn(): Uint8Array {
  return writeModel(convNetTemplate({ input: [1, 28, 28], convs: [{ filters: 6, kernel: 5 }, { filters: 12, kernel: 5 }], fc: [48, 10] }, new Rng(7)));
}

async function runOnce(name: string, bytes: Uint8Array, seed: number): Promise<Uint8Array> {
  const teacher = readModel(bytes);
  const r = await runPass(getPass(name), readModel(bytes), OPTIONS[name] ?? {}, await context(seed, teacher));
  return writeModel(r.model);
}

describe('determinism', () => {
  const bytes = smallCnn();
  const names = listPasses().map((p) => p.name);
  // each pass's first seed-11 run, made once: the different-seed check compares with it too
  const seed11 = new Map<string, Promise<Uint8Array>>();
  const firstRun = (name: string): Promise<Uint8Array> => {
    if (!seed11.has(name)) seed11.set(name, runOnce(name, bytes, 11));
    return seed11.get(name)!;
  };

  it('covers the passes of every technique package', () => {
    for (const n of ['quantize-weights', 'quantize-static', 'gptq', 'qat', 'cluster-weights', 'prune-gradual', 'prune-structured', 'lowrank', 'distill', 'normalize']) {
      expect(names).toContain(n);
    }
    for (const n of Object.keys(OPTIONS)) expect(names, `option override for unknown pass ${n}`).toContain(n);
  });

  it.each(names)('%s: the same seed gives byte-identical files', async (name) => {
    const a = await firstRun(name);
    const b = await runOnce(name, bytes, 11);
    expect(a.length).toBeGreaterThan(0);
    expect(Buffer.from(a).equals(Buffer.from(b)), `${name}: two runs with seed 11 wrote different bytes`).toBe(true);
  });

  it('a different seed changes the result of randomized passes (the seed is really used)', async () => {
    for (const name of ['prune-gradual', 'distill', 'qat']) {
      const a = await firstRun(name);
      const b = await runOnce(name, bytes, 12);
      expect(Buffer.from(a).equals(Buffer.from(b)), `${name}: seeds 11 and 12 gave identical bytes`).toBe(false);
    }
  });
});
