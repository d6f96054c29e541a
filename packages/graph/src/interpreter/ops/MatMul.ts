import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/** ONNX MatMul (numpy matmul semantics: batched, broadcast batch dims, 1-D operands). */
registerOp('MatMul', ([a, b]) => [T.matmul(a!, b!)]);
