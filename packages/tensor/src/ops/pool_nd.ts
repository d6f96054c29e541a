import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { windowAttrs } from './im2col.js';
import { windowNd } from './window.js';

/** Options of {@link maxPoolNd} and {@link avgPoolNd} (one entry per spatial axis). */
export interface PoolNdOptions {
  /** Window size per spatial axis. */
  kernel: readonly number[];
  /** Strides, default all 1 (ONNX default). */
  strides?: readonly number[];
  /** [begins..., ends...], default zeros. */
  pads?: readonly number[];
  /** Dilations, default all 1. */
  dilations?: readonly number[];
  /** Round the output size up (windows may run off the end but must start inside). Default false. */
  ceilMode?: boolean;
}

/** Options of {@link avgPoolNd}. */
export interface AvgPoolNdOptions extends PoolNdOptions {
  /** Count padding taps in the divisor (ONNX count_include_pad). Default false. */
  countIncludePad?: boolean;
}

/** @internal dtypes max pooling takes. */
export const MAXPOOL_DTYPES: ReadonlySet<string> = new Set(['float32', 'float16', 'int8', 'uint8', 'int32']);

function checkInput(op: string, x: Tensor, floatOnly: boolean): void {
  if (x.rank < 3) throw new ShapeError(`${op}: input must be [N, C, D1, ...] (rank >= 3), got [${x.shape.join(',')}]`);
  const ok = floatOnly ? x.dtype === 'float32' || x.dtype === 'float16' : MAXPOOL_DTYPES.has(x.dtype);
  if (!ok) throw new DTypeError(`${op}: dtype ${x.dtype} is not supported (${floatOnly ? 'float32, float16' : [...MAXPOOL_DTYPES].join(', ')})`);
}

/**
 * Max pooling over any number of spatial axes (ONNX MaxPool): x [N, C, D1..Dn] → `values`
 * [N, C, O1..On] and int64 `indices`, each the flattened index of the selected element in the
 * input (ONNX storage_order 0). The first maximum in window order wins. Output sizes as
 * `poolOutputSize` (ONNX Runtime's: a window may be clipped to an input shorter than it).
 * Differentiable in x.
 */
export function maxPoolNd(x: Tensor, opts: PoolNdOptions): { values: Tensor; indices: Tensor } {
  checkInput('maxPoolNd', x, false);
  const win = windowNd(x.shape, opts.kernel, { ...opts, pooling: true }, 'maxPoolNd');
  const [values, indices] = engine().runKernel('MaxPool', [x], windowAttrs(win, {})) as [Tensor, Tensor];
  return { values, indices };
}

/**
 * Average pooling over any number of spatial axes (ONNX AveragePool): x [N, C, D1..Dn] →
 * [N, C, O1..On]. Padding contributes zeros; the divisor counts padding taps only with
 * `countIncludePad` (and never taps beyond the end padding). Output sizes as
 * `poolOutputSize`. Differentiable in x.
 */
export function avgPoolNd(x: Tensor, opts: AvgPoolNdOptions): Tensor {
  checkInput('avgPoolNd', x, true);
  const win = windowNd(x.shape, opts.kernel, { ...opts, pooling: true }, 'avgPoolNd');
  return engine().run1('AveragePool', [x], windowAttrs(win, { countIncludePad: !!opts.countIncludePad }));
}
