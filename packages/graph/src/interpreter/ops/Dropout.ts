import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX Dropout in inference: the output is the input and the mask all true (bool since opset
 * 10, x's dtype before). training_mode with a non-zero ratio is random and not supported.
 */
registerOp('Dropout', async ([x, ratioT, trainingT], ctx) => {
  const training = trainingT ? (await trainingT.item()) !== 0 : ctx.opset < 7 && ctx.int('is_test', 0) === 0;
  const ratio = ratioT ? await ratioT.item() : ctx.float('ratio', 0.5);
  if (training && ratio !== 0 && ctx.opset >= 12) unsupported(ctx, 'training_mode with ratio > 0 (random)');
  const mask = ctx.node.outputs[1] ? T.full(x!.shape, 1, ctx.opset >= 10 ? 'bool' : x!.dtype, { backend: x!.backend }) : undefined;
  return [x!, mask];
});
