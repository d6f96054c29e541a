import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { type WindowNd, type WindowOptions, checkNchw, window2d } from './window.js';

/** Options of im2col/col2im: strides, pads [top, left, bottom, right], dilations. */
export type Im2ColOptions = Omit<WindowOptions, 'ceilMode'>;

/** Require a float dtype (float32 or float16). */
export function checkFloat(x: Tensor, where: string, what = 'input'): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float16') {
    throw new DTypeError(`${where}: ${what} has dtype ${x.dtype}; only float32 and float16 are supported (cast first)`);
  }
}

/** Attrs of the Im2Col/Col2Im kernels. */
export function windowAttrs<W extends WindowNd, E extends object>(w: W, extra: E): Pick<W, keyof WindowNd> & E {
  return { kernel: w.kernel, strides: w.strides, pads: w.pads, dilations: w.dilations, outShape: w.outShape, ...extra };
}

/**
 * Unfold the sliding `kernel` windows of an NCHW tensor into columns:
 * x [N, C, H, W] → [N, C*kh*kw, OH*OW], row (c*kh + i)*kw + j, padding read as zero.
 * Differentiable (its gradient is col2im).
 */
export function im2col(x: Tensor, kernel: readonly number[], opts: Im2ColOptions = {}): Tensor {
  checkNchw(x, 'im2col');
  checkFloat(x, 'im2col');
  const w = window2d(x.shape, kernel, opts, 'im2col');
  return engine().run1('Im2Col', [x], windowAttrs(w, {}));
}

/**
 * Fold columns back into an image, summing overlapping window taps (ONNX Col2Im, 2-D):
 * col [N, C*kh*kw, L] → [N, C, H, W] where `imageShape` = [H, W] and L = OH*OW must be the
 * number of window positions. The adjoint of im2col; differentiable (its gradient is im2col).
 */
export function col2im(col: Tensor, imageShape: readonly number[], kernel: readonly number[], opts: Im2ColOptions = {}): Tensor {
  checkFloat(col, 'col2im');
  if (col.rank !== 3) throw new ShapeError(`col2im: input must be [N, C*kh*kw, L], got shape [${col.shape.join(',')}]`);
  if (imageShape.length !== 2) throw new ShapeError(`col2im: imageShape must be [H, W], got [${imageShape.join(',')}]`);
  const kk = (kernel[0] ?? 1) * (kernel[1] ?? 1);
  const [N, K, L] = col.shape as [number, number, number];
  if (kernel.length !== 2 || K % kk !== 0) {
    throw new ShapeError(`col2im: dimension 1 of input [${col.shape.join(',')}] is not a multiple of the kernel size ${kk} (kernel [${kernel.join(',')}])`);
  }
  const w = window2d([N, K / kk, imageShape[0]!, imageShape[1]!], kernel, opts, 'col2im');
  if (w.outShape[0] * w.outShape[1] !== L) {
    throw new ShapeError(
      `col2im: input [${col.shape.join(',')}] has ${L} columns but image [${imageShape.join(',')}] with kernel [${kernel.join(',')}] has ${w.outShape[0]}x${w.outShape[1]} window positions`,
    );
  }
  return engine().run1('Col2Im', [col], windowAttrs(w, { imageShape: [imageShape[0]!, imageShape[1]!] }));
}
