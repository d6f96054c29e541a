import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX GatherElements along `axis`. */
registerOp('GatherElements', ([x, idx], ctx) => [T.gatherElements(x!, idx!, ctx.int('axis', 0))]);
