import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ONNX CumSum (exclusive, reverse) as a matmul with a 0/1 triangular matrix along the axis
 * (moved last); int64 runs in int32, float64/bfloat16 (storage-only dtypes) in float32.
 */
registerOp('CumSum', async ([x, axisT], ctx) => {
  const r = x!.rank;
  let a = Number((await axisT!.data())[0]);
  if (a < 0) a += r;
  const n = x!.shape[a]!;
  const exclusive = ctx.int('exclusive', 0) === 1;
  const reverse = ctx.int('reverse', 0) === 1;
  const tri: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      // out[j] = sum over i of x[i] * tri[i][j]
      const take = reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j;
      tri.push(take ? 1 : 0);
    }
  }
  const dtype = x!.dtype === 'float16' ? 'float16' : T.isFloat(x!.dtype) ? 'float32' : 'int32';
  const xc = x!.dtype === dtype ? x! : T.cast(x!, dtype);
  const perm = [...Array(r).keys()].filter((i) => i !== a).concat([a]);
  const inv = perm.map((_, i) => perm.indexOf(i));
  const y = T.matmul(T.transpose(xc, perm), T.tensor(tri, [n, n], dtype, { backend: x!.backend }));
  const out = T.transpose(y, inv);
  return [out.dtype === x!.dtype ? out : T.cast(out, x!.dtype)];
});
