import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { convolve } from './Conv.js';

/**
 * Integer and QLinear ops: MatMulInteger, ConvInteger (int32 results), QLinearMatMul,
 * QLinearConv. Products run in int32 (MatMul) or float32 on integer values (Conv; exact while
 * sums stay below 2^24), requantization as onnx's reference: rint(acc * (sa * sb / sy)) + zy.
 */
const i32 = (t: Tensor): Tensor => (t.dtype === 'int32' ? t : T.cast(t, 'int32'));

/** x - zero point as int32; a 1-D zero point applies along `axis` (rows of A, columns of B, channels). */
function centered(x: Tensor, zp: Tensor | undefined, axis: number): Tensor {
  const xi = i32(x);
  if (!zp) return xi;
  let z = i32(zp);
  if (z.rank === 1 && z.size > 1) z = T.reshape(z, x.shape.map((d, i) => (i === (axis < 0 ? axis + x.rank : axis) ? d : 1)));
  return T.sub(xi, z);
}

/** A per-row (A) scale [M] as [M, 1]; per-tensor and per-column scales broadcast as they are. */
const rowScale = (s: Tensor): Tensor => (s.rank === 1 && s.size > 1 ? T.reshape(s, [s.size, 1]) : s);

function requantize(acc: Tensor, multiplier: Tensor, yZp: Tensor | undefined): Tensor {
  const d = T.mul(T.cast(acc, 'float32'), multiplier);
  const one = T.full([], 1, 'float32', { backend: acc.backend });
  return T.quantizeLinear(d, one, yZp && yZp.rank > 0 ? T.reshape(yZp, []) : yZp, { dtype: yZp?.dtype ?? 'uint8' });
}

const f32 = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : T.cast(t, 'float32'));

registerOp('MatMulInteger', ([a, b, aZp, bZp]) => [T.matmul(centered(a!, aZp, -2), centered(b!, bZp, -1))]);

registerOp('ConvInteger', ([x, w, xZp, wZp], ctx) => {
  const xc = T.cast(centered(x!, xZp, 1), 'float32');
  const wc = T.cast(centered(w!, wZp, 0), 'float32');
  return [T.cast(T.round(convolve(xc, wc, undefined, ctx)), 'int32')];
});

registerOp('QLinearMatMul', ([a, aS, aZp, b, bS, bZp, yS, yZp]) => {
  const acc = T.matmul(centered(a!, aZp, -2), centered(b!, bZp, -1));
  const mult = T.div(T.mul(rowScale(f32(aS!)), f32(bS!)), f32(yS!));
  return [requantize(acc, mult, yZp)];
});

registerOp('QLinearConv', ([x, xS, xZp, w, wS, wZp, yS, yZp, bias], ctx) => {
  const xc = T.cast(centered(x!, xZp, 1), 'float32');
  const wc = T.cast(centered(w!, wZp, 0), 'float32');
  let acc = convolve(xc, wc, undefined, ctx);
  if (bias) acc = T.add(acc, T.reshape(T.cast(bias, 'float32'), [1, bias.size, ...acc.shape.slice(2).map(() => 1)]));
  const ws = f32(wS!);
  const wsB = ws.size > 1 ? T.reshape(ws, [1, ws.size, ...acc.shape.slice(2).map(() => 1)]) : ws;
  const mult = T.div(T.mul(f32(xS!), wsB), f32(yS!));
  const d = T.mul(T.round(acc), mult);
  const one = T.full([], 1, 'float32', { backend: acc.backend });
  return [T.quantizeLinear(d, one, yZp && yZp.rank > 0 ? T.reshape(yZp, []) : yZp, { dtype: yZp?.dtype ?? 'uint8' })];
});
