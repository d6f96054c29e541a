import { expect, it } from 'vitest';
import { add, mulScalar, tensor } from '@whittle/tensor/node';
import { describeBackends } from '@whittle/testing';

describeBackends('reads awaited together', ({ backend }) => {
  it('several data() reads in one Promise.all each return their own values', async () => {
    const xs = Array.from({ length: 6 }, (_, i) => tensor([i, i + 0.5, -i], [3], 'float32', { backend }));
    const ys = xs.map((x, i) => add(mulScalar(x, 2), tensor([i], [1], 'float32', { backend })));
    const got = await Promise.all(ys.map(async (y) => Array.from((await y.data()) as Float32Array)));
    expect(got).toEqual(xs.map((_, i) => [3 * i, 3 * i + 1, 2 * -i + i]));
    // and again while the first batch's buffers are being recycled
    const again = await Promise.all([...ys].reverse().map(async (y) => Array.from((await y.data()) as Float32Array)));
    expect(again).toEqual([...got].reverse());
  });
});
