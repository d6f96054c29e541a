import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { windowAttrs } from './im2col.js';
import { type AvgPoolNdOptions, type PoolNdOptions, MAXPOOL_DTYPES, avgPoolNd, maxPoolNd } from './pool_nd.js';
import { checkNchw, window2d } from './window.js';

/**
 * Options of {@link maxPool2d} and {@link avgPool2d}: the N-d options with two spatial axes
 * (kernel [kh, kw], strides [sh, sw], pads [top, left, bottom, right], dilations [dh, dw]).
 */
export type Pool2dOptions = PoolNdOptions;

/** Options of {@link avgPool2d} (adds countIncludePad, ONNX count_include_pad). */
export type AvgPool2dOptions = AvgPoolNdOptions;

/**
 * 2-D max pooling (ONNX MaxPool, NCHW; the 2-D case of {@link maxPoolNd}) → `values` [N, C, OH, OW] and int64 `indices`, each the
 * flattened index of the selected element in the NCHW input (ONNX storage_order 0). The first
 * maximum in window order wins. Differentiable in x (dy is summed into the selected positions).
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): { values: Tensor; indices: Tensor } {
  checkNchw(x, 'maxPool2d');
  return maxPoolNd(x, opts);
}

/**
 * Sum `dy` [N, C, OH, OW] into an [N, C, H, W] image at MaxPool's flattened `indices` (entries
 * < 0 are skipped): the adjoint used by maxPool2d's gradient. `window` must be the pooling's.
 */
export function maxUnpoolAdd(dy: Tensor, indices: Tensor, imageShape: readonly number[], opts: Pool2dOptions): Tensor {
  checkNchw(dy, 'maxUnpoolAdd');
  if (indices.dtype !== 'int64' || indices.rank !== 4 || indices.shape.some((d, i) => d !== dy.shape[i])) {
    throw new ShapeError(`maxUnpoolAdd: indices must be int64 with dy's shape [${dy.shape.join(',')}], got ${indices.dtype} [${indices.shape.join(',')}]`);
  }
  const win = window2d([dy.shape[0]!, dy.shape[1]!, imageShape[0]!, imageShape[1]!], opts.kernel, { ...opts, pooling: true }, 'maxUnpoolAdd');
  if (win.outShape[0] !== dy.shape[2] || win.outShape[1] !== dy.shape[3]) {
    throw new ShapeError(`maxUnpoolAdd: dy [${dy.shape.join(',')}] does not match the ${win.outShape.join('x')} windows of image [${imageShape.join(',')}]`);
  }
  return engine().run1('MaxUnpoolAdd', [dy, indices], windowAttrs(win, { imageShape: [imageShape[0]!, imageShape[1]!] }));
}

/**
 * 2-D average pooling (ONNX AveragePool, NCHW; the 2-D case of {@link avgPoolNd}). Padding contributes zeros; the divisor counts
 * padding taps only with `countIncludePad` (and never taps beyond the end padding, as in
 * onnxruntime with ceilMode). Differentiable in x.
 */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  checkNchw(x, 'avgPool2d');
  return avgPoolNd(x, opts);
}

function checkGlobal(op: string, x: Tensor, floatOnly: boolean): void {
  if (x.rank < 3) throw new ShapeError(`${op}: input must be [N, C, D1, ...] (rank >= 3), got [${x.shape.join(',')}]`);
  const ok = floatOnly ? x.dtype === 'float32' || x.dtype === 'float16' : MAXPOOL_DTYPES.has(x.dtype);
  if (!ok) throw new DTypeError(`${op}: dtype ${x.dtype} is not supported`);
}

/** Mean over all spatial axes (ONNX GlobalAveragePool): [N, C, ...] → [N, C, 1, ...]. Differentiable. */
export function globalAvgPool(x: Tensor): Tensor {
  checkGlobal('globalAvgPool', x, true);
  return engine().run1('GlobalAveragePool', [x], {});
}

/** Max over all spatial axes (ONNX GlobalMaxPool): [N, C, ...] → [N, C, 1, ...]. Differentiable (first max). */
export function globalMaxPool(x: Tensor): Tensor {
  checkGlobal('globalMaxPool', x, false);
  return engine().run1('GlobalMaxPool', [x], {});
}
