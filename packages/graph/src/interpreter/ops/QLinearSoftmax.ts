import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis } from './util.js';
import { badInput } from './contrib_util.js';
import { perTensor } from './qlinear_util.js';

const FLT_MAX = 3.4028234663852886e38;

/**
 * com.microsoft QLinearSoftmax as onnxruntime computes it (on the host, in float32 where its
 * kernel does): a 256-entry table exp((i - 255 + shift) · x_scale) with shift =
 * max(0, ln(FLT_MAX / D) - 5) / x_scale, a row's entries taken relative to its maximum code,
 * summed in float32, and y = nearbyint(e · floor(1 / y_scale) / sum) + y_zp saturated — the
 * zero point of X cancels. `opset` < 13 normalizes over the flattened axes [axis, rank), from
 * 13 over `axis` alone (default 1 before 13, -1 from 13).
 */
registerOp(
  'QLinearSoftmax',
  async ([x, xS, , yS, yZp], ctx) => {
    const opset = ctx.intOpt('opset');
    if (opset === undefined) throw badInput(ctx, 'the opset attribute is required');
    if (x!.dtype !== 'uint8' && x!.dtype !== 'int8') throw badInput(ctx, `X is ${x!.dtype}; it must be uint8 or int8`);
    const signed = x!.dtype === 'int8';
    const r = x!.rank;
    const ax = normAxis(ctx.int('axis', opset < 13 ? 1 : -1), r, ctx);
    // move the softmax axis last (opset >= 13), or flatten [axis, rank) (opset < 13)
    const perm = Array.from({ length: r }, (_, i) => i);
    if (opset >= 13) [perm[ax], perm[r - 1]] = [r - 1, ax];
    const moved = opset >= 13 && ax !== r - 1 ? T.transpose(x!, perm) : x!;
    const D = opset >= 13 ? x!.shape[ax]! : x!.shape.slice(ax).reduce((a, b) => a * b, 1);
    const xScale = Math.fround((await perTensor(ctx, xS!, 'X_scale').toFloat64())[0]!);
    const yScale = Math.floor(Math.fround(1 / Math.fround((await perTensor(ctx, yS!, 'Y_scale').toFloat64())[0]!)));
    const zp = yZp ? (await perTensor(ctx, yZp, 'Y_zero_point').toFloat64())[0]! : 0;
    const shift = Math.max(0, Math.log(FLT_MAX / D) - 5) / xScale;
    const table = new Float32Array(256);
    for (let i = 0; i < 256; i++) table[signed ? (i - 128) & 255 : i] = Math.exp((i - 255 + shift) * xScale);
    const codes = await moved.toFloat64();
    const out = new Array<number>(codes.length).fill(0);
    for (let row = 0; row < codes.length / D; row++) {
      const base = row * D;
      let max = -Infinity;
      for (let k = 0; k < D; k++) max = Math.max(max, codes[base + k]!);
      const at = (v: number): number => (signed ? table[(127 - max + v) & 255]! : table[255 - max + v]!);
      let sum = 0;
      for (let k = 0; k < D; k++) sum = Math.fround(sum + at(codes[base + k]!));
      if (sum === 0) continue;
      for (let k = 0; k < D; k++) {
        const q = roundHalfEven(Math.fround(Math.fround(at(codes[base + k]!) * yScale) / sum)) + zp;
        out[base + k] = signed ? Math.max(-128, Math.min(q, 127)) : Math.min(q, 255);
      }
    }
    const y = T.tensor(out, [...moved.shape], x!.dtype, { backend: ctx.backend });
    return [moved === x ? y : T.transpose(y, perm)];
  },
  'com.microsoft',
);

/** nearbyintf under the default rounding mode: to nearest, ties to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
