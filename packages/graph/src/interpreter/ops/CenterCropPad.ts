import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis, hostInts, unsupported } from './util.js';

/**
 * ONNX CenterCropPad (opset 18): each of `axes` (default all) centre-cropped or zero-padded to
 * the size in `shape` — a crop starts at ⌊(d − s)/2⌋, a pad puts ⌊(s − d)/2⌋ zeros before and
 * the rest after. Slices and a concat with zeros, on the input's backend.
 */
registerOp('CenterCropPad', async ([x, shapeT], ctx) => {
  const sizes = await hostInts(shapeT!);
  const axes = (ctx.ints('axes') ?? [...x!.shape.keys()]).map((a) => normAxis(a, x!.rank, ctx));
  if (axes.length !== sizes.length) unsupported(ctx, `shape [${sizes.join(',')}] for ${axes.length} axes`);
  let y = x!;
  axes.forEach((a, k) => {
    const d = y.shape[a]!;
    const s = sizes[k]!;
    if (s < 0) unsupported(ctx, `a target size of ${s}`);
    if (s < d) {
      const start = Math.floor((d - s) / 2);
      y = T.slice(y, [start], [start + s], [a]);
    } else if (s > d) {
      const before = Math.floor((s - d) / 2);
      const zeros = (n: number): T.Tensor => T.zeros(y.shape.map((v, i) => (i === a ? n : v)), y.dtype, { backend: y.backend });
      y = T.concat([...(before ? [zeros(before)] : []), y, ...(s - d - before ? [zeros(s - d - before)] : [])], a);
    }
  });
  return [y];
});
