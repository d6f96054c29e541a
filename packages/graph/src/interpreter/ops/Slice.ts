import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/** ONNX Slice: starts/ends/axes attributes before opset 10; inputs (with steps) since. */
registerOp('Slice', async ([x, startsT, endsT, axesT, stepsT], ctx) => {
  if (ctx.opset < 10) {
    return [T.slice(x!, ctx.ints('starts') ?? [], ctx.ints('ends') ?? [], ctx.ints('axes'))];
  }
  const starts = await hostInts(startsT!);
  const ends = await hostInts(endsT!);
  const axes = axesT ? await hostInts(axesT) : undefined;
  const steps = stepsT ? await hostInts(stepsT) : undefined;
  return [T.slice(x!, starts, ends, axes, steps)];
});
