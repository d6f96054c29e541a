import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis } from './util.js';

/**
 * ONNX Unique (opset 11): the distinct elements of the flattened input, or with `axis` the
 * distinct slices along it — sorted ascending (slices lexicographically; sorted = 1, the
 * default) or in order of first occurrence — with the index of each one's first occurrence,
 * each input position's index into the result, and the counts. Index work on the host; the
 * result goes to the node's backend.
 */
registerOp('Unique', async ([xIn], ctx) => {
  const x = xIn!;
  const a = ctx.intOpt('axis');
  const ax = a === undefined ? undefined : normAxis(a, x.rank, ctx);
  const values = await x.toFloat64();
  // the input as items: single elements, or slices along ax (each read in row-major order)
  const outer = ax === undefined ? 1 : x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
  const n = ax === undefined ? x.size : x.shape[ax]!;
  const inner = ax === undefined ? 1 : x.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
  const item = (i: number): number[] => {
    const out: number[] = [];
    for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) out.push(values[(o * n + i) * inner + k]!);
    return out;
  };
  const items = Array.from({ length: n }, (_, i) => item(i));
  const keyOf = (v: number[]): string => v.join(',');
  const first = new Map<string, number>();
  items.forEach((v, i) => {
    if (!first.has(keyOf(v))) first.set(keyOf(v), i);
  });
  const order = [...first.values()];
  if (ctx.int('sorted', 1) === 1) {
    order.sort((p, q) => {
      const [u, v] = [items[p]!, items[q]!];
      for (let k = 0; k < u.length; k++) if (u[k] !== v[k]) return u[k]! - v[k]!;
      return 0;
    });
  }
  const rank = new Map(order.map((i, r) => [keyOf(items[i]!), r]));
  const inverse = items.map((v) => rank.get(keyOf(v))!);
  const counts = order.map(() => 0);
  for (const r of inverse) counts[r]!++;
  const backend = ctx.backend;
  const idx = T.tensor(order, [order.length], 'int32', { backend: x.backend });
  const y = ax === undefined ? T.gather(T.reshape(x, [x.size]), idx, 0) : T.gather(x, idx, ax);
  const i64 = (v: number[]): T.Tensor => T.tensor(v, [v.length], 'int64', { backend });
  return [y, i64(order), i64(inverse), i64(counts)];
});
