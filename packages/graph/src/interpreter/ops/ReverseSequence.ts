import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX ReverseSequence: along `time_axis`, the first sequence_lens[b] elements of each batch
 * entry b (along `batch_axis`) reversed, the rest kept. A gather with host-built indices, so it
 * runs on the input's backend and passes gradients.
 */
registerOp('ReverseSequence', async ([x, lensT], ctx) => {
  const batchAxis = ctx.int('batch_axis', 1);
  const timeAxis = ctx.int('time_axis', 0);
  if (x!.rank < 2 || ![batchAxis, timeAxis].every((a) => a === 0 || a === 1) || batchAxis === timeAxis) {
    unsupported(ctx, `batch_axis ${batchAxis} and time_axis ${timeAxis} on an input of rank ${x!.rank} (they must be 0 and 1)`);
  }
  const shape = x!.shape;
  const lens = await hostInts(lensT!);
  const [b, t] = [shape[batchAxis]!, shape[timeAxis]!];
  if (lens.length !== b || lens.some((l) => l < 0 || l > t)) unsupported(ctx, `sequence_lens [${lens.join(',')}] for ${b} sequences of ${t} steps`);
  const inner = shape.slice(2).reduce((p, d) => p * d, 1);
  const index = new Int32Array(x!.size);
  for (let i = 0; i < shape[0]!; i++) {
    for (let j = 0; j < shape[1]!; j++) {
      const [bi, ti] = batchAxis === 0 ? [i, j] : [j, i];
      const src = ti < lens[bi]! ? lens[bi]! - 1 - ti : ti;
      index.fill(src, (i * shape[1]! + j) * inner, (i * shape[1]! + j + 1) * inner);
    }
  }
  return [T.gatherElements(x!, T.tensor(index, shape, 'int32', { backend: x!.backend }), timeAxis)];
});
