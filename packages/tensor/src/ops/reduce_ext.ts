import { engine } from '../engine.js';
import type { ReduceKernelName } from '../kernel_names.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { reductionAxes } from './reduce.js';

function reduce(name: ReduceKernelName, where: string, x: Tensor, axes: readonly number[] | undefined, keepDims: boolean): Tensor {
  if (x.dtype === 'bool') throw new DTypeError(`${where}: bool tensors cannot be reduced; cast to float32 or int32 first`);
  return engine().run1(name, [x], { axes: reductionAxes(x, axes, where), keepDims });
}

/** Mean over `axes` (all when omitted or empty), ONNX ReduceMean. */
export const mean = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceMean', 'mean', x, axes, keepDims);
/** Maximum over `axes` (all when omitted), ONNX ReduceMax. */
export const max = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceMax', 'max', x, axes, keepDims);
/** Minimum over `axes` (all when omitted), ONNX ReduceMin. */
export const min = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceMin', 'min', x, axes, keepDims);
/** Product over `axes` (all when omitted), ONNX ReduceProd. */
export const prod = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceProd', 'prod', x, axes, keepDims);
/** Numerically stable log(sum(exp(x))) over `axes`, ONNX ReduceLogSumExp. */
export const logSumExp = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceLogSumExp', 'logSumExp', x, axes, keepDims);
/** Sum of absolute values over `axes`, ONNX ReduceL1. */
export const l1Norm = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceL1', 'l1Norm', x, axes, keepDims);
/** Euclidean norm over `axes`, ONNX ReduceL2. */
export const l2Norm = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceL2', 'l2Norm', x, axes, keepDims);
/** Sum of squares over `axes`, ONNX ReduceSumSquare. */
export const sumSquare = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('ReduceSumSquare', 'sumSquare', x, axes, keepDims);
