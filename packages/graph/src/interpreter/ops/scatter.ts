import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { hostInts, prod, unsupported } from './util.js';

/**
 * ScatterElements (and the deprecated Scatter), ScatterND and GatherND. The ND ops work on the
 * data flattened to [prod(indexed dims), rest]: linear row indices are computed on the host
 * (index tensors are small) and the rows gathered / scattered along axis 0.
 */
function reduction(ctx: OpContext): 'none' | 'add' {
  const r = ctx.string('reduction', 'none');
  if (r !== 'none' && r !== 'add') unsupported(ctx, `reduction '${r}'`);
  return r as 'none' | 'add';
}

const scatterElements = ([data, idx, upd]: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] => [T.scatterElements(data!, idx!, upd!, ctx.int('axis', 0), reduction(ctx))];
registerOp('ScatterElements', scatterElements);
registerOp('Scatter', scatterElements);

/** Linear row numbers of the index tuples (last dim k) into data's first k dims, per batch. */
async function rowIndices(data: Tensor, indices: Tensor, batchDims: number): Promise<{ rows: number[]; k: number; tuples: number }> {
  const k = indices.shape[indices.rank - 1]!;
  const idx = await hostInts(indices);
  const dims = data.shape.slice(batchDims, batchDims + k);
  const perBatch = prod(dims);
  const tuples = idx.length / k;
  const batches = prod(data.shape.slice(0, batchDims));
  const tuplesPerBatch = tuples / batches;
  const rows: number[] = [];
  for (let t = 0; t < tuples; t++) {
    let lin = 0;
    for (let j = 0; j < k; j++) {
      let v = idx[t * k + j]!;
      if (v < 0) v += dims[j]!;
      lin = lin * dims[j]! + v;
    }
    rows.push(Math.floor(t / tuplesPerBatch) * perBatch + lin);
  }
  return { rows, k, tuples };
}

registerOp('GatherND', async ([data, indices], ctx) => {
  const b = ctx.int('batch_dims', 0);
  const { rows, k } = await rowIndices(data!, indices!, b);
  const rest = data!.shape.slice(b + k);
  const flat = T.reshape(data!, [prod(data!.shape.slice(0, b + k)), prod(rest)]);
  const g = T.gather(flat, T.tensor(rows, [rows.length], 'int32', { backend: data!.backend }), 0);
  return [T.reshape(g, [...indices!.shape.slice(0, -1), ...rest])];
});

registerOp('ScatterND', async ([data, indices, updates], ctx) => {
  const { rows, k } = await rowIndices(data!, indices!, 0);
  const rest = prod(data!.shape.slice(k));
  const flat = T.reshape(data!, [prod(data!.shape.slice(0, k)), rest]);
  const idx = T.contiguous(T.expand(T.tensor(rows, [rows.length, 1], 'int32', { backend: data!.backend }), [rows.length, rest]));
  const y = T.scatterElements(flat, idx, T.reshape(updates!, [rows.length, rest]), 0, reduction(ctx));
  return [T.reshape(y, data!.shape)];
});
