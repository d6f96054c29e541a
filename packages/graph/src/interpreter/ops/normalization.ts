import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * Normalizations composed from tensor ops: RMSNormalization (opset 23), LpNormalization,
 * InstanceNormalization, GroupNormalization (opset 18 per-group and 21 per-channel
 * scale/bias), MeanVarianceNormalization, LRN.
 */
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const channelShape = (x: Tensor, c: number): number[] => [1, c, ...x.shape.slice(2).map(() => 1)];

registerOp('RMSNormalization', ([x, scale], ctx) => {
  const r = x!.rank;
  let a = ctx.int('axis', -1);
  if (a < 0) a += r;
  const ms = T.mean(T.mul(x!, x!), range(a, r), true);
  return [T.mul(T.mul(x!, T.reciprocal(T.sqrt(T.addScalar(ms, ctx.float('epsilon', 1e-5))))), scale!)];
});

registerOp('LpNormalization', ([x], ctx) => {
  const a = ctx.int('axis', -1);
  const n = ctx.int('p', 2) === 1 ? T.l1Norm(x!, [a], true) : T.l2Norm(x!, [a], true);
  // a zero norm leaves the (zero) slice as it is
  const safe = T.where(T.equal(n, T.full([], 0, n.dtype, { backend: n.backend })), T.full([], 1, n.dtype, { backend: n.backend }), n);
  return [T.div(x!, safe)];
});

function standardize(x: Tensor, axes: number[], eps: number): Tensor {
  const mean = T.mean(x, axes, true);
  const d = T.sub(x, mean);
  return T.div(d, T.sqrt(T.addScalar(T.mean(T.mul(d, d), axes, true), eps)));
}

registerOp('InstanceNormalization', ([x, scale, bias], ctx) => {
  const C = x!.shape[1]!;
  const y = standardize(x!, range(2, x!.rank), ctx.float('epsilon', 1e-5));
  return [T.add(T.mul(y, T.reshape(scale!, channelShape(x!, C))), T.reshape(bias!, channelShape(x!, C)))];
});

registerOp('GroupNormalization', ([x, scale, bias], ctx) => {
  const G = ctx.int('num_groups', 1);
  const [N, C] = x!.shape as [number, number];
  const g = T.reshape(x!, [N, G, -1]);
  const y = T.reshape(standardize(g, [2], ctx.float('epsilon', 1e-5)), x!.shape);
  const perGroup = scale!.size === G && G !== C;
  const expandParam = (p: Tensor): Tensor => (perGroup ? T.reshape(T.contiguous(T.expand(T.reshape(p, [G, 1]), [G, C / G])), [C]) : p);
  return [T.add(T.mul(y, T.reshape(expandParam(scale!), channelShape(x!, C))), T.reshape(expandParam(bias!), channelShape(x!, C)))];
});

registerOp('MeanVarianceNormalization', ([x], ctx) => [standardize(x!, ctx.ints('axes') ?? [0, 2, 3], 1e-9)]);

registerOp('LRN', ([x], ctx) => {
  const size = ctx.int('size', 1);
  const alpha = ctx.float('alpha', 1e-4);
  const beta = ctx.float('beta', 0.75);
  const bias = ctx.float('bias', 1);
  const C = x!.shape[1]!;
  const sq = T.mul(x!, x!);
  const before = Math.floor((size - 1) / 2);
  const pads = new Array<number>(2 * x!.rank).fill(0);
  pads[1] = before;
  pads[1 + x!.rank] = size - 1 - before;
  const padded = T.pad(sq, pads);
  let s: Tensor | undefined;
  for (let k = 0; k < size; k++) {
    const part = T.slice(padded, [k], [k + C], [1]);
    s = s ? T.add(s, part) : part;
  }
  const denom = T.pow(T.addScalar(T.mulScalar(s!, alpha / size), bias), T.full([], beta, x!.dtype, { backend: x!.backend }));
  return [T.div(x!, denom)];
});
