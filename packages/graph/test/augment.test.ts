import { describe, expect, it } from 'vitest';
import { ArgumentError, Rng } from '@whittle/tensor';
import { arrayBatches, randomShift } from '../src/index.js';

/** The image moved by (dy, dx) with zero fill, written the obvious way. */
function shifted(img: number[], H: number, W: number, dy: number, dx: number): number[] {
  const out = new Array<number>(H * W).fill(0);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    const si = i - dy, sj = j - dx;
    if (si >= 0 && si < H && sj >= 0 && sj < W) out[i * W + j] = img[si * W + sj]!;
  }
  return out;
}

describe('randomShift', () => {
  it('moves every sample by a shift within range, all channels together, with zero fill', () => {
    const H = 5, W = 6, C = 2, N = 40;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: N * C * H * W }, () => rng.uniform(0.1, 1));
    const orig = Array.from(x);
    randomShift(2)(x, N, [C, H, W], new Rng(9));
    const seen = new Set<string>();
    for (let s = 0; s < N; s++) {
      const planes = [0, 1].map((c) => orig.slice((s * C + c) * H * W, (s * C + c + 1) * H * W));
      const got = [0, 1].map((c) => Array.from(x.subarray((s * C + c) * H * W, (s * C + c + 1) * H * W)));
      // find the shift that explains channel 0, then require it for channel 1 too
      let match: [number, number] | null = null;
      for (let dy = -2; dy <= 2 && !match; dy++) for (let dx = -2; dx <= 2 && !match; dx++) {
        if (shifted(planes[0]!, H, W, dy, dx).every((v, i) => v === got[0]![i])) match = [dy, dx];
      }
      expect(match, `sample ${s}`).not.toBeNull();
      expect(got[1]).toEqual(shifted(planes[1]!, H, W, match![0], match![1]));
      seen.add(match!.join(','));
    }
    expect(seen.size).toBeGreaterThan(10); // the shifts really vary
  });

  it('is reproducible from the generator and leaves the source arrays alone in arrayBatches', () => {
    const x = Float32Array.from({ length: 4 * 16 }, (_, i) => i + 1);
    const copy = x.slice();
    const run = () => [...arrayBatches({ x, sampleShape: [1, 4, 4], batchSize: 4, inputName: 'x', augment: randomShift(1), augmentRng: new Rng(5) })];
    const a = run(), b = run();
    expect(x).toEqual(copy);
    expect(a[0]!.inputs.x!.dataSync()).toEqual(b[0]!.inputs.x!.dataSync());
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => randomShift(-1)).toThrow(ArgumentError);
    expect(() => randomShift(1)(new Float32Array(4), 1, [4], new Rng(1))).toThrow(/images \[\.\.\., H, W\]/);
    expect(() => [...arrayBatches({ x: new Float32Array(16), sampleShape: [4, 4], batchSize: 1, inputName: 'x', augment: randomShift(1) })]).toThrow(/random generator/);
  });
});
