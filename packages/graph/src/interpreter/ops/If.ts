import { registerValueOp } from '../registry.js';
import { isTensor } from '../value.js';
import { unsupported } from './util.js';

/**
 * ONNX If: run then_branch or else_branch (outer-scope values visible) and return its outputs,
 * which may be tensors, sequences or optionals.
 */
registerValueOp('If', async ([cond], ctx) => {
  if (!isTensor(cond)) return unsupported(ctx, 'a condition that is not a tensor');
  const c = (await cond.data())[0];
  const branch = ctx.graph(c ? 'then_branch' : 'else_branch') ?? unsupported(ctx, 'If without branches');
  return ctx.runSubgraphValues(branch, new Map());
});
