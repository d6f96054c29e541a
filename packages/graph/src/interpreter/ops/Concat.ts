import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Concat along `axis` (empty inputs along the axis are skipped). */
registerOp('Concat', (xs, ctx) => {
  const ts = xs.filter((x): x is Tensor => !!x);
  const a = ctx.int('axis', 0);
  const r = ts[0]!.rank;
  const ax = a < 0 ? a + r : a;
  const nonEmpty = ts.filter((t) => t.shape[ax] !== 0);
  return [T.concat(nonEmpty.length ? nonEmpty : [ts[0]!], a)];
});
