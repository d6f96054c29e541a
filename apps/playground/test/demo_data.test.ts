/**
 * The demo files the build generates: the model is the zoo's, the MNIST test split equals
 * @whittle/eval's loadMnist().test value for value, the training subset is the first 100
 * training images of each digit, interleaved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { prepareDemoAssets } from '../build/demo_assets.js';
import { DEMO_FILES, type DemoManifest } from '../src/data/demo_files.js';
import { decodeMnistPack, encodeMnistPack } from '../src/data/mnist_format.js';
import { APP_ROOT } from './support/build_app.js';
import { mnistData, zooBytes } from './support/reference.js';

let dir: string;
beforeAll(() => {
  dir = prepareDemoAssets(APP_ROOT);
});
const read = (f: string): Uint8Array => new Uint8Array(readFileSync(join(dir, f)));

describe('demo assets', () => {
  test('the model is the zoo LeNet-300-100, byte for byte', () => {
    expect(Buffer.compare(Buffer.from(read(DEMO_FILES.model)), Buffer.from(zooBytes()))).toBe(0);
  });

  test('the test split equals loadMnist().test exactly', async () => {
    const { test: want } = await mnistData();
    const got = decodeMnistPack(read(DEMO_FILES.test));
    expect(got.count).toBe(want.count);
    expect(got.pixels).toBe(784);
    expect(got.labels).toEqual(want.labels);
    expect(Buffer.compare(Buffer.from(got.images.buffer), Buffer.from(want.images.buffer))).toBe(0);
  });

  test('the training subset is the first 100 training images of each digit, digits interleaved', async () => {
    const { train } = await mnistData();
    const got = decodeMnistPack(read(DEMO_FILES.train));
    expect(got.count).toBe(1000);
    const firstOf = (d: number): number => train.labels.indexOf(d);
    for (const i of [0, 1, 9, 10, 537, 999]) {
      const digit = i % 10;
      expect(got.labels[i]).toBe(digit);
      const src = firstOf(digit) + Math.floor(i / 10);
      expect(got.images.subarray(i * 784, (i + 1) * 784)).toEqual(train.images.subarray(src * 784, (src + 1) * 784));
    }
    const manifest = JSON.parse(new TextDecoder().decode(read(DEMO_FILES.manifest))) as DemoManifest;
    expect(manifest.test.count).toBe(2004);
    expect(manifest.train.count).toBe(1000);
  });

  test('the pack format refuses what it cannot hold and what is not a pack', () => {
    expect(() => encodeMnistPack(Float32Array.from({ length: 257 }, (_, i) => i), [0], 257)).toThrow(/257 distinct/);
    expect(() => decodeMnistPack(new Uint8Array(2000))).toThrow(/not a WMN1 file/);
    const round = decodeMnistPack(encodeMnistPack([0, 0.5, 1, 0.25], [3], 4));
    expect([...round.images]).toEqual([0, 0.5, 1, 0.25]);
    expect([...round.labels]).toEqual([3]);
  });
});
