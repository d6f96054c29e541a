import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Range: max(ceil((limit - start) / delta), 0) elements start + i * delta, in start's dtype. */
registerOp('Range', async ([start, limit, delta]) => {
  // sequential reads: concurrent webgpu readbacks interleave their error scopes
  const s = await start!.item();
  const l = await limit!.item();
  const d = await delta!.item();
  const n = Math.max(Math.ceil((l - s) / d), 0);
  const values = Array.from({ length: n }, (_, i) => s + i * d);
  return [T.tensor(values, [n], start!.dtype, { backend: start!.backend })];
});
