import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Gather along `axis` (negative indices count from the end). */
registerOp('Gather', ([x, idx], ctx) => [T.gather(x!, idx!, ctx.int('axis', 0))]);
