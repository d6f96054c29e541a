import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Shape as int64, with the opset-15 start/end slice (negative and clamped). */
registerOp('Shape', ([x], ctx) => {
  const r = x!.rank;
  const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampIdx(ctx.int('start', 0));
  const end = clampIdx(ctx.int('end', r));
  const dims = x!.shape.slice(start, Math.max(start, end));
  return [T.tensor(dims, [dims.length], 'int64', { backend: x!.backend })];
});
