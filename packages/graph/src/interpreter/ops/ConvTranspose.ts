import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ONNX ConvTranspose (any spatial rank): explicit pads, or output_shape / auto_pad SAME_* giving the
 * total padding (split as the spec says; a negative total becomes extra output padding).
 */
registerOp('ConvTranspose', ([x, w, b], ctx) => {
  const n = x!.rank - 2;
  const kernel = ctx.ints('kernel_shape') ?? w!.shape.slice(2);
  const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(n).fill(1);
  const outPad = [...(ctx.ints('output_padding') ?? new Array<number>(n).fill(0))];
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let pads = ctx.ints('pads') ?? new Array<number>(2 * n).fill(0);
  let outShape = ctx.ints('output_shape');
  if (outShape && outShape.length > n) outShape = outShape.slice(-n);
  if (!outShape && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) outShape = x!.shape.slice(2).map((d, i) => d * strides[i]!);
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  if (outShape) {
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const natural = strides[i]! * (x!.shape[i + 2]! - 1) + outPad[i]! + (kernel[i]! - 1) * dilations[i]! + 1;
      const total = natural - outShape[i]!;
      if (total < 0) {
        outPad[i] = outPad[i]! - total;
        continue;
      }
      const half = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[i + n] = total - pads[i]!;
    }
  }
  // output padding beyond stride - 1 only adds positions no input reaches: pad zeros, then bias
  const extra = outPad.map((p, i) => Math.max(0, p - (strides[i]! - 1)));
  let y = T.convTransposeNd(x!, w!, undefined, { strides, dilations, pads, outputPadding: outPad.map((p, i) => p - extra[i]!), group: ctx.int('group', 1) });
  if (extra.some((e) => e > 0)) y = T.pad(y, [0, 0, ...extra.map(() => 0), 0, 0, ...extra]);
  if (b) y = T.add(y, T.reshape(b, [1, b.shape[0]!, ...extra.map(() => 1)]));
  return [y];
});
