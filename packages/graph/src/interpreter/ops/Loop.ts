import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX Loop: runs the body while (i < M when the trip count is given) and (cond when given).
 * Body inputs (iteration_num, cond, carried...), outputs (cond, carried..., scan...); scan
 * outputs are stacked along a new axis 0.
 */
registerOp('Loop', async ([tripT, condT, ...initial], ctx) => {
  const body = ctx.graph('body') ?? unsupported(ctx, 'Loop without a body');
  const maxTrips = tripT ? Number((await tripT.data())[0]) : Infinity;
  let cond = condT ? !!(await condT.data())[0] : true;
  let carried = initial.map((t) => t!);
  const nCarried = carried.length;
  const scans: Tensor[][] = [];
  const names = body.inputs.map((v) => v.name);
  const backend = ctx.backend;
  for (let i = 0; i < maxTrips && cond; i++) {
    const feeds = new Map<string, Tensor>();
    feeds.set(names[0]!, T.tensor([i], [], 'int64', { backend }));
    feeds.set(names[1]!, T.tensor([cond ? 1 : 0], [], 'bool', { backend }));
    carried.forEach((t, k) => feeds.set(names[k + 2]!, t));
    const outs = await ctx.runSubgraph(body, feeds);
    cond = !!(await outs[0]!.data())[0];
    carried = outs.slice(1, 1 + nCarried);
    outs.slice(1 + nCarried).forEach((t, k) => (scans[k] ??= []).push(t));
    if (!condT) cond = true;
  }
  const nScan = body.outputs.length - 1 - nCarried;
  const stacked = Array.from({ length: nScan }, (_, k) => {
    const list = scans[k];
    if (!list?.length) return T.zeros([0], 'float32', { backend });
    return T.concat(list.map((t) => T.unsqueeze(t, [0])), 0);
  });
  return [...carried, ...stacked];
});
