/**
 * `@whittle/graph/interpreter` — runs ONNX models on `@whittle/tensor` (cpu or webgpu): every
 * op implementation (registered when this entry is imported: its side effect), the op registry
 * for adding ops, and runtime values (tensors, sequences, optionals, strings).
 * @module
 */
import './ops/index.js';

export { runModel, runModelValues, runGraph, type RunOptions } from './run.js';
export { registerOp, registerValueOp, getOp, getValueOp, listOps, normalizeDomain, type OpImpl, type ValueOpImpl } from './registry.js';
export { isSequence, isOptional, isStrings, isTensor, tensorsOf, type RuntimeValue, type RuntimeSequence, type RuntimeOptional, type RuntimeStrings } from './value.js';
export type { OpContext } from './context.js';
export { UnsupportedOpError, InterpreterError } from './errors.js';
export { BNB4_TABLES, BNB4_QUANT_TYPE, dequantizeBnb4 } from './ops/MatMulBnb4.js';
