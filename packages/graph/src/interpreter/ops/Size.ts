import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX Size: element count as an int64 scalar. */
registerOp('Size', ([x]) => [T.tensor([x!.size], [], 'int64', { backend: x!.backend })]);
