import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Transpose (default: reverse the axes). */
registerOp('Transpose', ([x], ctx) => [T.transpose(x!, ctx.ints('perm'))]);
