/**
 * The interpreter entry points the runner uses. Until @whittle/graph's index exports the
 * interpreter, they are imported from its sources here (one place to change).
 */
export { runModel, runModelValues } from '../../../graph/src/interpreter/run.js';
export { isOptional, isSequence, isStrings, isTensor, kindOf, tensorsOf, type RuntimeStrings, type RuntimeValue } from '../../../graph/src/interpreter/value.js';
export { UnsupportedOpError, InterpreterError } from '../../../graph/src/interpreter/errors.js';
import '../../../graph/src/interpreter/ops/index.js';
