/**
 * The model zoo of the test suites: Whittle-trained MNIST baselines (LeNet-300-100, LeNet-5, and
 * LeNet-5 trained longer on affine jitter as the distillation teacher),
 * built from the graph templates, trained with `trainClassifier` on the standard split with a
 * fixed seed, and evaluated in onnxruntime-node. The trained files are committed under
 * `packages/testing/zoo/` (LeNet-5 takes minutes to train on two cores) and are reproduced with
 * `pnpm --filter @whittle/testing zoo:train <name>`; a missing file is trained on first use
 * (concurrent test workers wait for one trainer through a lock file).
 */
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, forceWasmSgemmVariant } from '@whittle/tensor/node';
import { LENET5, LENET_300_100, convNetTemplate, imageJitter, mlpTemplate, trainClassifier, type Model } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { writeModelFile } from '@whittle/onnx/node';
import { evaluateAccuracyOrt, loadMnist, type MnistData } from '@whittle/eval/node';

export type ZooName = 'lenet300100' | 'lenet5' | 'lenet5jitter';

/** Every zoo model, in the order the suites list them. */
export const ZOO_NAMES: readonly ZooName[] = ['lenet300100', 'lenet5', 'lenet5jitter'];

/** A trained zoo model. */
export interface ZooModel {
  name: ZooName;
  model: Model;
  /** The ONNX bytes as cached. */
  bytes: Uint8Array;
  /** Test-split accuracy measured in onnxruntime-node. */
  testAccuracy: number;
  path: string;
}

/** How a zoo model is trained: Adam, lr × lrDecay per epoch, random shifts up to `shift` px; with `rotate`/`scale` an affine jitter (degrees, scale fraction, `shift` as translation). */
export interface ZooRecipe {
  seed: number;
  epochs: number;
  lr: number;
  lrDecay: number;
  batchSize: number;
  shift?: number;
  rotate?: number;
  scale?: number;
}

/** The recipes; changing one changes its cache key. */
export const ZOO_RECIPES: Record<ZooName, ZooRecipe> = {
  lenet300100: { seed: 1, epochs: 12, lr: 1e-3, lrDecay: 0.85, batchSize: 64 },
  // random shifts of up to 2 px: without them LeNet-5 memorises the 7,996 images (96.8 %)
  lenet5: { seed: 1, epochs: 10, lr: 1e-3, lrDecay: 0.8, batchSize: 64, shift: 2 },
  // the distillation teacher: the same LeNet-5 trained 4x longer on affine jitter (rotation,
  // scale, sub-pixel shifts), 0.8 pt better than `lenet5` and far less sure of ambiguous digits
  lenet5jitter: { seed: 1, epochs: 40, lr: 1e-3, lrDecay: 0.92, batchSize: 64, shift: 2, rotate: 10, scale: 0.08 },
};

/** Where zoo models are kept (committed; `WHITTLE_ZOO_DIR` overrides). */
export const ZOO_DIR = process.env.WHITTLE_ZOO_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'zoo');

let mnist: Promise<MnistData> | null = null;
/** The MNIST standard split (7,992 train / 2,004 test), images [N, 1, 28, 28] in [0, 1]. */
export function mnistData(): Promise<MnistData> {
  mnist ??= loadMnist();
  return mnist;
}

/** The file name of a recipe's model (changing the recipe changes the name). */
export function cacheName(name: ZooName): string {
  const r = ZOO_RECIPES[name];
  return `${name}-s${r.seed}-e${r.epochs}-lr${r.lr}-d${r.lrDecay}-b${r.batchSize}${r.shift ? `-sh${r.shift}` : ''}${r.rotate ? `-rot${r.rotate}` : ''}${r.scale ? `-sc${r.scale}` : ''}.onnx`;
}


function build(name: ZooName, rng: Rng): Model {
  return name === 'lenet5' || name === 'lenet5jitter' ? convNetTemplate(LENET5, rng) : mlpTemplate(LENET_300_100, rng);
}

/** Train (seeded) and return the model bytes without touching the cache. */
export async function trainZooModel(name: ZooName, onProgress?: (f: number, m: string) => void): Promise<Uint8Array> {
  const r = ZOO_RECIPES[name];
  const data = await mnistData();
  const model = build(name, new Rng(r.seed));
  // plain-SIMD MatMul: unfused float32 arithmetic gives the committed bytes on every engine and
  // CPU (fused multiply-add would differ in the last bits between machines that fuse and not)
  const augment = imageJitter(r);
  const prev = forceWasmSgemmVariant('simd');
  const { model: trained } = await trainClassifier(model, {
    x: data.train.images,
    labels: data.train.labels,
    sampleShape: [1, 28, 28],
    epochs: r.epochs,
    lr: r.lr,
    lrDecay: r.lrDecay,
    batchSize: r.batchSize,
    seed: r.seed,
    ...(augment ? { augment } : {}),
    backend: 'cpu',
    ...(onProgress ? { onProgress } : {}),
  }).finally(() => forceWasmSgemmVariant(prev));
  return writeModel(trained);
}

const loaded = new Map<ZooName, Promise<ZooModel>>();

/** A trained zoo model (trained on first use, then read from the cache). */
export function zooModel(name: ZooName): Promise<ZooModel> {
  let p = loaded.get(name);
  if (!p) loaded.set(name, (p = loadOrTrain(name)));
  return p;
}

async function loadOrTrain(name: ZooName): Promise<ZooModel> {
  mkdirSync(ZOO_DIR, { recursive: true });
  const path = join(ZOO_DIR, cacheName(name));
  const lock = `${path}.lock`;
  while (!existsSync(path)) {
    let fd: number | null = null;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // another worker trains it: wait, unless its lock is stale (older than 15 minutes)
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { force: true });
      } catch {
        /* lock vanished */
      }
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      const bytes = await trainZooModel(name);
      await writeModelFile(await readModel(bytes), path);
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
  const bytes = new Uint8Array(readFileSync(path));
  const model = await readModel(bytes);
  const data = await mnistData();
  const { accuracy } = await evaluateAccuracyOrt(bytes, data.test.images, data.test.labels, { sampleShape: [1, 28, 28] });
  return { name, model, bytes, testAccuracy: accuracy, path };
}
