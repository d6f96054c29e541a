import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis, hostInts, unsupported } from './util.js';

/**
 * ONNX TensorScatter (opset 24), the in-place KV-cache write: each batch entry's `update` written
 * into `past_cache` along `axis` (default −2) from its `write_indices` entry (default 0) on —
 * wrapping around the cache in mode circular. A scatter with host-built positions, on the
 * cache's backend.
 */
registerOp('TensorScatter', async ([cache, update, writeT], ctx) => {
  const c = cache!;
  const u = update!;
  const a = normAxis(ctx.int('axis', -2), c.rank, ctx);
  if (a === 0 || u.rank !== c.rank || u.shape.some((d, i) => i !== a && d !== c.shape[i])) {
    unsupported(ctx, `update [${u.shape.join(',')}] into cache [${c.shape.join(',')}] along axis ${a}`);
  }
  const mode = ctx.string('mode', 'linear');
  if (mode !== 'linear' && mode !== 'circular') unsupported(ctx, `mode '${mode}'`);
  const batch = c.shape[0]!;
  const starts = writeT ? await hostInts(writeT) : new Array<number>(batch).fill(0);
  const length = c.shape[a]!;
  const steps = u.shape[a]!;
  const inner = u.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const middle = u.shape.slice(1, a).reduce((p, d) => p * d, 1);
  const index = new Int32Array(u.size);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      let pos = starts[b]! + t;
      if (mode === 'circular') pos %= length;
      else if (pos >= length) unsupported(ctx, `writing ${steps} steps from ${starts[b]} into a cache of ${length}`);
      for (let m = 0; m < middle; m++) {
        const o = ((b * middle + m) * steps + t) * inner;
        index.fill(pos, o, o + inner);
      }
    }
  }
  return [T.scatterElements(c, T.tensor(index, u.shape, 'int32', { backend: c.backend }), u, a)];
});
