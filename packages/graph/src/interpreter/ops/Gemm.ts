import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Gemm: alpha * A' B' + beta * C (C unidirectionally broadcast). */
registerOp('Gemm', ([a, b, c], ctx) => [
  T.gemm(a!, b!, c ?? null, { alpha: ctx.float('alpha', 1), beta: ctx.float('beta', 1), transA: ctx.int('transA', 0) === 1, transB: ctx.int('transB', 0) === 1 }),
]);
