import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX Det: the determinants of the trailing [M, M] matrices, by Gaussian elimination with
 * partial pivoting in float64 on the host; the result goes to the node's backend in x's dtype.
 */
registerOp('Det', async ([x], ctx) => {
  const shape = x!.shape;
  const m = shape[shape.length - 1]!;
  if (shape.length < 2 || shape[shape.length - 2] !== m || !T.isFloat(x!.dtype)) unsupported(ctx, `a ${x!.dtype} input [${shape.join(',')}] (expected float [..., M, M])`);
  const v = await x!.toFloat64();
  const count = v.length / (m * m || 1);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const a = v.slice(k * m * m, (k + 1) * m * m);
    let det = 1;
    for (let col = 0; col < m && det !== 0; col++) {
      let pivot = col;
      for (let r = col + 1; r < m; r++) if (Math.abs(a[r * m + col]!) > Math.abs(a[pivot * m + col]!)) pivot = r;
      if (a[pivot * m + col] === 0) det = 0;
      else {
        if (pivot !== col) {
          for (let j = 0; j < m; j++) [a[col * m + j], a[pivot * m + j]] = [a[pivot * m + j]!, a[col * m + j]!];
          det = -det;
        }
        const p = a[col * m + col]!;
        det *= p;
        for (let r = col + 1; r < m; r++) {
          const f = a[r * m + col]! / p;
          for (let j = col; j < m; j++) a[r * m + j] = a[r * m + j]! - f * a[col * m + j]!;
        }
      }
    }
    out.push(det);
  }
  return [T.tensor(out, shape.slice(0, -2), x!.dtype, { backend: ctx.backend })];
});
