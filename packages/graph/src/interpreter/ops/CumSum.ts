import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** Longest axis summed as a matmul (an n×n matrix): beyond it, and for integers, a running sum on the host. */
const MATMUL_MAX = 1024;

/** Running sums along `axis` on the host, in float64 (exact for int64 up to 2^53), in x's dtype. */
async function hostCumSum(x: Tensor, axis: number, exclusive: boolean, reverse: boolean): Promise<Tensor> {
  const v = await x.toFloat64();
  const n = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = x.size / Math.max(1, n * inner);
  const out = new Float64Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const j = reverse ? n - 1 - k : k;
        const at = (o * n + j) * inner + i;
        if (exclusive) {
          out[at] = acc;
          acc += v[at]!;
        } else {
          acc += v[at]!;
          out[at] = acc;
        }
      }
    }
  }
  // back into x's storage: bigints for 64-bit integers, half-float bits for float16
  const store = T.allocStorage(x.dtype, out.length);
  if (store instanceof BigInt64Array || store instanceof BigUint64Array) for (let i = 0; i < out.length; i++) store[i] = BigInt(out[i]!);
  else if (x.dtype === 'float16') for (let i = 0; i < out.length; i++) store[i] = T.float32ToFloat16Bits(out[i]!);
  else (store as Float32Array).set(out);
  return T.tensor(store, x.shape, x.dtype, { backend: x.backend });
}

/**
 * ONNX CumSum (exclusive, reverse): float axes up to {@link MATMUL_MAX} as a matmul with a 0/1
 * triangular matrix along the axis (moved last), so gradients flow; longer axes and integers as a
 * running sum on the host (Deep Compression's relative indices run over 20k gaps: an n×n matrix
 * of 400M entries). float64/bfloat16 (storage-only dtypes) compute in float32.
 */
registerOp('CumSum', async ([x, axisT], ctx) => {
  const r = x!.rank;
  let a = Number((await axisT!.data())[0]);
  if (a < 0) a += r;
  const n = x!.shape[a]!;
  const exclusive = ctx.int('exclusive', 0) === 1;
  const reverse = ctx.int('reverse', 0) === 1;
  if (n > MATMUL_MAX || !T.isFloat(x!.dtype)) return [await hostCumSum(x!, a, exclusive, reverse)];
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
