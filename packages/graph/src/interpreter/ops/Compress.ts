import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Compress: keep the slices where condition is true along axis (flattened when no axis). */
registerOp('Compress', async ([x, cond], ctx) => {
  const c = await cond!.data();
  const axis = ctx.intOpt('axis');
  const src = axis === undefined ? T.reshape(x!, [x!.size]) : x!;
  const a = axis === undefined ? 0 : axis < 0 ? axis + x!.rank : axis;
  const keep: number[] = [];
  for (let i = 0; i < Math.min(c.length, src.shape[a]!); i++) if (c[i]) keep.push(i);
  return [T.gather(src, T.tensor(keep, [keep.length], 'int32', { backend: x!.backend }), a)];
});

/** ONNX NonZero: int64 [rank, count] coordinates of the non-zero elements (row-major order). */
registerOp('NonZero', async ([x]) => {
  const v = await x!.toFloat64();
  const r = x!.rank;
  const coords: number[][] = Array.from({ length: r }, () => []);
  const strides = x!.shape.map((_, i) => x!.shape.slice(i + 1).reduce((p, d) => p * d, 1));
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0) continue;
    for (let d = 0; d < r; d++) coords[d]!.push(Math.floor(i / strides[d]!) % x!.shape[d]!);
  }
  const n = coords[0]?.length ?? (v.length && v[0] !== 0 ? 1 : 0);
  return [T.tensor(coords.flat(), [r, n], 'int64', { backend: x!.backend })];
});
