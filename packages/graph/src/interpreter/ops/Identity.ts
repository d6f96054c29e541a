import { registerValueOp } from '../registry.js';

/** ONNX Identity: its input, whether a tensor, a sequence or an optional. */
registerValueOp('Identity', ([x]) => [x]);
