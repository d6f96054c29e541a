import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * ONNX OneHot(indices, depth, values=[off, on]): indices of any numeric type (truncated),
 * negative ones count from depth; out-of-range rows are all `off`. Output in values' dtype.
 */
registerOp('OneHot', async ([indices, depthT, valuesT], ctx) => {
  const depth = Math.trunc(await depthT!.item());
  const [off, on] = Array.from(await valuesT!.toFloat64());
  let idx = indices!.dtype === 'int64' || indices!.dtype === 'int32' ? indices! : T.cast(indices!, 'int64');
  const d = T.full([], depth, idx.dtype, { backend: idx.backend });
  const zero = T.full([], 0, idx.dtype, { backend: idx.backend });
  idx = T.where(T.less(idx, zero), T.add(idx, d), idx);
  const oh = T.oneHot(idx, depth, ctx.int('axis', -1), [off!, on!]);
  return [oh.dtype === valuesT!.dtype ? oh : T.cast(oh, valuesT!.dtype)];
});
