import * as T from '@whittle/tensor';
import type { PadMode } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/**
 * ONNX Pad: pads/value attributes before opset 11, inputs since (pads, constant_value, and
 * axes since 18); modes constant, reflect, edge, wrap; negative pads crop.
 */
registerOp('Pad', async ([x, padsT, valueT, axesT], ctx) => {
  const mode = ctx.string('mode', 'constant') as PadMode;
  const r = x!.rank;
  if (ctx.opset < 11) return [T.pad(x!, ctx.ints('pads') ?? ctx.ints('paddings') ?? [], mode, ctx.float('value', 0))];
  let pads = await hostInts(padsT!);
  if (axesT) {
    const axes = (await hostInts(axesT)).map((a) => (a < 0 ? a + r : a));
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i]!;
      full[a + r] = pads[i + axes.length]!;
    });
    pads = full;
  }
  const value = valueT && valueT.size > 0 ? await valueT.item() : 0;
  return [T.pad(x!, pads, mode, value)];
});
