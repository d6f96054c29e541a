import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/** ONNX If: run then_branch or else_branch (outer-scope values visible) and return its outputs. */
registerOp('If', async ([cond], ctx) => {
  const c = (await cond!.data())[0];
  const branch = ctx.graph(c ? 'then_branch' : 'else_branch') ?? unsupported(ctx, 'If without branches');
  return ctx.runSubgraph(branch, new Map());
});
