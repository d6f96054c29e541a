import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isTensor, kindOf, type RuntimeValue } from '../value.js';
import { unsupported } from './util.js';

/**
 * ONNX Loop: runs the body while (i < M when the trip count is given) and (cond when given).
 * Body inputs (iteration_num, cond, carried...), outputs (cond, carried..., scan...); carried
 * values may be tensors, sequences or optionals (TorchScript loops carry sequences they
 * SequenceInsert into); scan outputs are tensors stacked along a new axis 0.
 */
registerValueOp('Loop', async ([tripT, condT, ...initial], ctx) => {
  const body = ctx.graph('body') ?? unsupported(ctx, 'Loop without a body');
  if (tripT !== undefined && !isTensor(tripT)) unsupported(ctx, `a trip count that is a ${kindOf(tripT)}`);
  if (condT !== undefined && !isTensor(condT)) unsupported(ctx, `a condition that is a ${kindOf(condT)}`);
  const maxTrips = tripT ? Number((await tripT.data())[0]) : Infinity;
  let cond = condT ? !!(await condT.data())[0] : true;
  let carried = initial.map((v, k) => v ?? unsupported(ctx, `a missing loop-carried input ${k}`));
  const nCarried = carried.length;
  const scans: Tensor[][] = [];
  const names = body.inputs.map((v) => v.name);
  const backend = ctx.backend;
  for (let i = 0; i < maxTrips && cond; i++) {
    const feeds = new Map<string, RuntimeValue>();
    feeds.set(names[0]!, T.tensor([i], [], 'int64', { backend }));
    feeds.set(names[1]!, T.tensor([cond ? 1 : 0], [], 'bool', { backend }));
    carried.forEach((t, k) => feeds.set(names[k + 2]!, t));
    const outs = await ctx.runSubgraphValues(body, feeds);
    const c = outs[0];
    if (!isTensor(c)) return unsupported(ctx, 'a body whose condition output is not a tensor');
    cond = !!(await c.data())[0];
    carried = outs.slice(1, 1 + nCarried) as RuntimeValue[];
    outs.slice(1 + nCarried).forEach((t, k) => (scans[k] ??= []).push(isTensor(t) ? t : unsupported(ctx, `a scan output that is a ${t ? kindOf(t) : 'missing value'}`)));
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
