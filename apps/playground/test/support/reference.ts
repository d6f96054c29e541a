/**
 * The page's computation redone in Node with the library: the same recipe through runRecipe on
 * the zoo model, sizes with @whittle/eval's measureSize, outputs in onnxruntime-node on the
 * standard MNIST test split, accuracy and fidelity with the same @whittle/eval functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FidelityMetrics, type SizeMetrics, accuracyFromScores, compareOutputs, createOrtRunner, loadMnist, measureSize, type MnistData } from '@whittle/eval/node';
import { type Feeds, type Recipe, runRecipe } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { type SensitivityResult, sensitivityAnalysis } from '@whittle/prune';
import '@whittle/quantize';
import { tensor } from '@whittle/tensor';
import { ZOO_DIR, cacheName } from '@whittle/testing/zoo';

let mnist: Promise<MnistData> | undefined;
export const mnistData = (): Promise<MnistData> => (mnist ??= loadMnist());

/** The zoo's LeNet-300-100 bytes (the file the page ships as its demo). */
export function zooBytes(): Uint8Array {
  return new Uint8Array(readFileSync(join(ZOO_DIR, cacheName('lenet300100'))));
}

/** First-output logits of an MNIST model in onnxruntime-node (default: over the test split). */
export async function ortLogits(bytes: Uint8Array, images?: Float32Array): Promise<Float32Array> {
  const x = images ?? (await mnistData()).test.images;
  const count = x.length / 784;
  const runner = await createOrtRunner(bytes);
  try {
    const out = new Float32Array(count * 10);
    for (let s = 0; s < count; s += 500) {
      const m = Math.min(500, count - s);
      const r = await runner.run({ [runner.inputNames[0]!]: { data: x.subarray(s * 784, (s + m) * 784), dims: [m, 1, 28, 28] } });
      out.set(r[runner.outputNames[0]!]!.data, s * 10);
    }
    return out;
  } finally {
    await runner.release();
  }
}

export interface Measured {
  bytes: Uint8Array;
  size: SizeMetrics;
  accuracy: number;
  fidelity?: FidelityMetrics;
}

/** Measure a model like the page does (fidelity against `reference` logits when given). */
export async function measure(bytes: Uint8Array, reference?: Float32Array): Promise<Measured & { logits: Float32Array }> {
  const { test } = await mnistData();
  const logits = await ortLogits(bytes);
  return { bytes, logits, size: measureSize(bytes), accuracy: accuracyFromScores(logits, test.labels, 10), ...(reference ? { fidelity: compareOutputs(reference, logits, { numClasses: 10 }) } : {}) };
}

/** Run `recipe` on the zoo model in Node (cpu backend) and measure the original and the result. */
export async function nodeReference(recipe: Recipe, seed: number): Promise<{ original: Measured & { logits: Float32Array }; compressed: Measured }> {
  const original = zooBytes();
  const r = await runRecipe(readModel(original), recipe, { seed, backend: 'cpu' });
  const o = await measure(original);
  const c = await measure(writeModel(r.model), o.logits);
  return { original: o, compressed: c };
}

/** Per-layer sensitivity of the zoo model on the first `samples` images (batches of 64, as the page), cpu backend. */
export async function nodeSensitivity(images: Float32Array, samples: number): Promise<SensitivityResult> {
  const feeds: Feeds[] = [];
  for (let s = 0; s < samples; s += 64) {
    const m = Math.min(64, samples - s);
    feeds.push({ input: tensor(images.slice(s * 784, (s + m) * 784), [m, 1, 28, 28], 'float32', { backend: 'cpu' }) });
  }
  return sensitivityAnalysis(readModel(zooBytes()), { calibration: feeds, backend: 'cpu' });
}
