import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { resolveAutoPad, unsupported } from './util.js';
import { checkPoolInput, perTensor } from './qlinear_util.js';

const scalar = async (t: T.Tensor): Promise<number> => (await t.toFloat64())[0]!;

/**
 * com.microsoft QLinearAveragePool as onnxruntime's kernel computes it, on host data: each
 * window's dequantized values x_scale · (x - x_zp) summed in float32 in row-major order over the
 * window's taps inside the input, divided by the tap count (the whole kernel with
 * count_include_pad), then saturate(nearbyint(y / y_scale + y_zp)) — the zero point added before
 * rounding. kernel_shape, strides, pads / auto_pad and ceil_mode as AveragePool; channels_last 1
 * takes and gives NHWC….
 */
registerOp(
  'QLinearAveragePool',
  async ([x, xS, xZp, yS, yZp], ctx) => {
    const last = checkPoolInput(ctx, x!);
    const n = x!.rank - 2;
    const dims = x!.shape;
    const spatial = last ? dims.slice(1, -1) : dims.slice(2);
    const [N, C] = [dims[0]!, last ? dims[n + 1]! : dims[1]!];
    const kernel = ctx.ints('kernel_shape') ?? unsupported(ctx, 'QLinearAveragePool without kernel_shape');
    const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
    const pads = resolveAutoPad(ctx, spatial, kernel, strides, new Array<number>(n).fill(1));
    const ceil = ctx.int('ceil_mode', 0) === 1;
    const includePad = ctx.int('count_include_pad', 0) === 1;
    const out = spatial.map((d, a) => T.poolOutputSize(d, pads[a]!, pads[a + n]!, kernel[a]!, strides[a]!, 1, ceil));
    const sx = Math.fround(await scalar(perTensor(ctx, xS!, 'x_scale')));
    const zx = xZp ? await scalar(perTensor(ctx, xZp, 'x_zero_point')) : 0;
    const sy = Math.fround(await scalar(perTensor(ctx, yS!, 'y_scale')));
    const zy = yZp ? await scalar(perTensor(ctx, yZp, 'y_zero_point')) : 0;
    const [lo, hi] = x!.dtype === 'uint8' ? [0, 255] : [-128, 127];
    const codes = await x!.toFloat64();
    const deq = Float32Array.from(codes, (v) => sx * (v - zx));
    const inner = (a: number): number => spatial.slice(a + 1).reduce((p, d) => p * d, 1);
    const outSize = out.reduce((p, d) => p * d, 1);
    const inSize = spatial.reduce((p, d) => p * d, 1);
    const y = new Array<number>(N * C * outSize);
    const at = (b: number, c: number, s: number): number => (last ? (b * inSize + s) * C + c : (b * C + c) * inSize + s);
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        for (let o = 0; o < outSize; o++) {
          // window bounds per spatial axis, clipped to the input
          const lo0: number[] = [], hi0: number[] = [];
          let rest = o;
          for (let a = n - 1; a >= 0; a--) {
            const oa = rest % out[a]!;
            rest = Math.floor(rest / out[a]!);
            const start = oa * strides[a]! - pads[a]!;
            hi0[a] = Math.min(start + kernel[a]!, spatial[a]!);
            lo0[a] = Math.max(start, 0);
          }
          let sum = 0;
          let count = 1;
          for (let a = 0; a < n; a++) count *= Math.max(0, hi0[a]! - lo0[a]!);
          const idx = [...lo0];
          if (count > 0) {
            for (;;) {
              let s = 0;
              for (let a = 0; a < n; a++) s += idx[a]! * inner(a);
              sum = Math.fround(sum + deq[at(b, c, s)]!);
              let a = n - 1;
              while (a >= 0 && ++idx[a]! >= hi0[a]!) idx[a] = lo0[a--]!;
              if (a < 0) break;
            }
          }
          const avg = Math.fround(sum / (includePad ? kernel.reduce((p, k) => p * k, 1) : count));
          const q = roundHalfEven(Math.fround(Math.fround(avg / sy) + zy));
          y[last ? (b * outSize + o) * C + c : (b * C + c) * outSize + o] = Math.min(hi, Math.max(lo, q));
        }
      }
    }
    const shape = last ? [N, ...out, C] : [N, C, ...out];
    return [T.tensor(y, shape, yZp?.dtype ?? x!.dtype, { backend: ctx.backend })];
  },
  'com.microsoft',
);

/** nearbyintf under the default rounding mode: to nearest, ties to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
