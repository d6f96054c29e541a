import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis } from './util.js';
import { invRms } from './contrib_util.js';

/**
 * SimplifiedLayerNormalization, as onnxruntime registers it in the default ONNX domain (since
 * version 1, so it appears in graphs of any opset): RMS normalization of X over axes
 * [axis, rank), Y = X / √(mean(X²) + epsilon) · scale. Outputs Y and inv_std_var (the reduced axes
 * kept as 1). axis defaults to -1, epsilon to 1e-5; stash_type (computation in float) changes
 * nothing for float32.
 */
registerOp('SimplifiedLayerNormalization', ([x, scale], ctx) => {
  const inv = invRms(x!, axis(ctx.int('axis', -1), x!.rank, ctx), ctx.float('epsilon', 1e-5));
  return [T.mul(T.mul(x!, inv), scale!), inv];
});
