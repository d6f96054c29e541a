import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { hostInts, prod, unsupported } from './util.js';

/**
 * ScatterElements (and the deprecated Scatter), ScatterND and GatherND. The ND ops work on the
 * data flattened to [prod(indexed dims), rest]: linear row indices are computed on the host
 * (index tensors are small) and the rows gathered / scattered along axis 0. Reductions none and
 * add are one scatter; mul, max and min run in rounds over positions hit at most once per round
 * (gather the current values, combine, scatter back), so they stay tensor ops on every backend.
 */
type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
function reduction(ctx: OpContext): Reduction {
  const r = ctx.string('reduction', 'none');
  if (!['none', 'add', 'mul', 'max', 'min'].includes(r)) unsupported(ctx, `reduction '${r}'`);
  return r as Reduction;
}

const COMBINE: Record<'mul' | 'max' | 'min', (a: Tensor, b: Tensor) => Tensor> = { mul: T.mul, max: T.maximum, min: T.minimum };

/** `flat` (1-D) with updates[u] combined into position targets[u] by `op`, duplicates in rounds. */
function scatterCombine(flat: Tensor, targets: readonly number[], updates: Tensor, op: 'mul' | 'max' | 'min'): Tensor {
  const rounds: { ids: number[]; at: number[] }[] = [];
  const seen = new Map<number, number>();
  targets.forEach((t, u) => {
    const r = seen.get(t) ?? 0;
    seen.set(t, r + 1);
    (rounds[r] ??= { ids: [], at: [] }).ids.push(u);
    rounds[r]!.at.push(t);
  });
  const opts = { backend: flat.backend };
  const upd = T.reshape(updates, [updates.size]);
  let out = flat;
  for (const { ids, at } of rounds) {
    const where = T.tensor(at, [at.length], 'int32', opts);
    const vals = T.gather(upd, T.tensor(ids, [ids.length], 'int32', opts), 0);
    out = T.scatterElements(out, where, COMBINE[op](T.gather(out, where, 0), vals), 0, 'none');
  }
  return out;
}

const scatterElements = async ([data, idx, upd]: readonly (Tensor | undefined)[], ctx: OpContext): Promise<Tensor[]> => {
  const r = reduction(ctx);
  const axis = ctx.int('axis', 0);
  if (r === 'none' || r === 'add') return [T.scatterElements(data!, idx!, upd!, axis, r)];
  // flat target of each update element: its own position with the axis coordinate replaced
  const shape = data!.shape;
  const a = T.normalizeAxis(axis, shape.length, `${ctx.node.opType} ${ctx.node.name}`);
  const index = await hostInts(idx!);
  const strides = shape.map((_, i) => prod(shape.slice(i + 1)));
  const targets = index.map((v, u) => {
    let rest = u;
    let flat = 0;
    for (let i = shape.length - 1; i >= 0; i--) {
      const d = idx!.shape[i]!;
      const coord = i === a ? (v < 0 ? v + shape[a]! : v) : rest % d;
      rest = Math.floor(rest / d);
      flat += coord * strides[i]!;
    }
    return flat;
  });
  return [T.reshape(scatterCombine(T.reshape(data!, [data!.size]), targets, upd!, r), shape)];
};
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
  const r = reduction(ctx);
  if (r === 'mul' || r === 'max' || r === 'min') {
    const targets = rows.flatMap((row) => Array.from({ length: rest }, (_, j) => row * rest + j));
    return [T.reshape(scatterCombine(T.reshape(data!, [data!.size]), targets, updates!, r), data!.shape)];
  }
  const flat = T.reshape(data!, [prod(data!.shape.slice(0, k)), rest]);
  const idx = T.contiguous(T.expand(T.tensor(rows, [rows.length, 1], 'int32', { backend: data!.backend }), [rows.length, rest]));
  const y = T.scatterElements(flat, idx, T.reshape(updates!, [rows.length, rest]), 0, r);
  return [T.reshape(y, data!.shape)];
});
