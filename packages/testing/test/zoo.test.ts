import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { predictClasses } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { evaluateAccuracyOrt } from '@whittle/eval/node';
import { ZOO_DIR, ZOO_NAMES, cacheName, mnistData, trainZooModel, zooModel, type ZooName } from '../src/zoo.js';

/**
 * The trained baselines every technique measures against: trained by
 * Whittle's fit() on the standard split, written as ONNX, scored in onnxruntime-node, and
 * agreeing with Whittle's interpreter on the test predictions.
 */
// the accuracy floors (the committed models measure 94.51 % and 98.20 % on the 2,004 test digits);
// the distillation teacher measures 98.90 %
const targets: Record<ZooName, number> = { lenet300100: 0.94, lenet5: 0.97, lenet5jitter: 0.985 };

describe('model zoo', () => {
  for (const name of ZOO_NAMES) {
    it(`${name}: committed, accurate in onnxruntime-node, and the interpreter agrees on >= 99.9 % of predictions`, async () => {
      expect(existsSync(join(ZOO_DIR, cacheName(name))), `${cacheName(name)} is committed`).toBe(true);
      const zoo = await zooModel(name);
      const { test } = await mnistData();
      expect(test.count).toBe(2004);
      expect(zoo.testAccuracy).toBeGreaterThanOrEqual(targets[name]);
      const ort = await evaluateAccuracyOrt(zoo.bytes, test.images, test.labels, { sampleShape: [1, 28, 28] });
      const ours = await predictClasses(zoo.model, test.images, [1, 28, 28], { backend: 'cpu', batchSize: 500 });
      let agree = 0;
      for (let i = 0; i < test.count; i++) if (ours[i] === ort.predictions[i]) agree++;
      expect(agree / test.count).toBeGreaterThanOrEqual(0.999);
      // the file round-trips through Whittle's codec byte for byte
      expect(writeModel(zoo.model)).toEqual(zoo.bytes);
    }, 240_000);
  }

  it('lenet300100: the seeded recipe reproduces the committed file byte for byte', async () => {
    const committed = new Uint8Array(readFileSync(join(ZOO_DIR, cacheName('lenet300100'))));
    const trained = await trainZooModel('lenet300100');
    // compared by hand: a diff of two 1 MB arrays takes vitest minutes to print
    let first = -1;
    for (let i = 0; i < Math.max(trained.length, committed.length) && first < 0; i++) if (trained[i] !== committed[i]) first = i;
    expect({ length: trained.length, firstDifferingByte: first }).toEqual({ length: committed.length, firstDifferingByte: -1 });
  }, 240_000);
});
