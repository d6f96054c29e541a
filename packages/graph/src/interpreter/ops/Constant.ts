import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';
import { place } from '../placement.js';

/**
 * ONNX Constant: value (tensor), value_float(s), value_int(s); the result is on the run's backend,
 * except a 64-bit integer tensor the backend cannot store, which stays on the host.
 */
registerOp('Constant', async (_inputs, ctx) => {
  const backend = ctx.backend;
  const t = ctx.attr('value');
  // a view of the attribute tensor: the run may dispose its result, never the attribute itself
  if (t) return [(await place(ctx.tensorAttr('value')!, backend)).detach()];
  const f = ctx.floatOpt('value_float');
  if (f !== undefined) return [T.full([], f, 'float32', { backend })];
  const fs = ctx.floats('value_floats');
  if (fs) return [T.tensor(fs, [fs.length], 'float32', { backend })];
  const i = ctx.intOpt('value_int');
  if (i !== undefined) return [await place(T.tensor([i], [], 'int64', { backend: 'cpu' }), backend)];
  const is = ctx.ints('value_ints');
  if (is) return [await place(T.tensor(is, [is.length], 'int64', { backend: 'cpu' }), backend)];
  return unsupported(ctx, 'a Constant that is not a numeric tensor (strings, sparse)');
});
