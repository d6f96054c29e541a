import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/** ONNX Tile: [d0, d1, …] repeated [r0, r1, …] times, as expand of [1, d0, 1, d1, …] to [r0, d0, r1, d1, …]. */
registerOp('Tile', async ([x, repeatsT]) => {
  const reps = await hostInts(repeatsT!);
  const s = x!.shape;
  const inter = s.flatMap((d) => [1, d]);
  const big = s.flatMap((d, i) => [reps[i]!, d]);
  const y = T.contiguous(T.expand(T.reshape(x!, inter), big));
  return [T.reshape(y, s.map((d, i) => d * reps[i]!))];
});
