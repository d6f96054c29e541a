import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import '../src/index.js';
import { ortRun } from './helpers.js';
import { encoderInput, imageInput, resnetCnn, transformerEncoder } from './models.js';

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
}

const cases: [string, () => Model, (n: number, seed: number) => { data: Float32Array; dims: number[] }][] = [
  ['2-layer transformer encoder', () => transformerEncoder(), (n, s) => encoderInput(n, s)],
  ['ResNet-style CNN', () => resnetCnn(), (n, s) => imageInput(n, s)],
];

describe('int8 on random-init models: output cosine >= 0.99 vs fp32 in onnxruntime', () => {
  for (const [name, build, input] of cases) {
    it(name, async () => {
      const model = build();
      const feeds = { x: input(16, 7) };
      const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
      async function* calibration(): AsyncGenerator<Feeds> {
        for (let b = 0; b < 4; b++) {
          const f = input(16, 100 + b);
          yield { x: tensor(f.data, f.dims) };
        }
      }
      for (const [pass, opts, calib] of [['quantize-static', {}, true], ['quantize-static', { perChannel: false }, true], ['quantize-dynamic', {}, false]] as const) {
        const q = (await runPass(pass, model, opts, calib ? { calibration: calibration() } : {})).model;
        const out = (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!;
        expect(cosine(ref, out), `${pass} ${JSON.stringify(opts)}`).toBeGreaterThanOrEqual(0.99);
      }
    });
  }
});
