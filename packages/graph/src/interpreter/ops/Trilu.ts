import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Trilu: keep the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes. */
registerOp('Trilu', async ([x, kT], ctx) => {
  const k = kT ? Number((await kT.data())[0]) : 0;
  const upper = ctx.int('upper', 1) === 1;
  const [n, m] = x!.shape.slice(-2) as [number, number];
  const mask: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) mask.push((upper ? j - i >= k : j - i <= k) ? 1 : 0);
  const keep = T.tensor(mask, [n, m], 'bool', { backend: x!.backend });
  return [T.where(keep, x!, T.full([], 0, x!.dtype, { backend: x!.backend }))];
});
