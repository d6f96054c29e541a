import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { onnxTypeToDType } from './elementwise.js';

/** ONNX EyeLike: ones on the k-th diagonal of a 2-D tensor shaped like the input. */
registerOp('EyeLike', ([x], ctx) => {
  const [n, m] = x!.shape as [number, number];
  const k = ctx.int('k', 0);
  const code = ctx.intOpt('dtype');
  const v: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) v.push(j - i === k ? 1 : 0);
  return [T.tensor(v, [n, m], code !== undefined ? onnxTypeToDType(code, ctx.node.name) : x!.dtype, { backend: x!.backend })];
});
