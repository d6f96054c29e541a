import type { Tensor } from '../tensor.js';
import { checkConvOperands } from './conv2d.js';
import { convTransposeNd } from './conv_transpose_nd.js';

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions {
  /** [sh, sw], default [1, 1]. */
  strides?: readonly number[];
  /** [top, left, bottom, right] cropped from the full output, default zeros. */
  pads?: readonly number[];
  /** [dh, dw], default [1, 1]. */
  dilations?: readonly number[];
  /** Number of groups, default 1. */
  group?: number;
  /** Extra rows/columns [oh, ow] added at the bottom/right of the output (each < its stride). */
  outputPadding?: readonly number[];
}

/**
 * 2-D transposed convolution (ONNX ConvTranspose, NCHW): x [N, C, H, W], w [C, M/group, kh, kw],
 * optional bias [M] → [N, M, OH, OW] with OH = sh*(H-1) + outputPadding + (kh-1)*dh + 1 - top - bottom.
 * The 2-D case of {@link convTransposeNd} (a per-group matmul with wᵀ followed by col2im);
 * differentiable in x, w and bias.
 * @throws ShapeError when channels do not match, group does not divide them, or the output is empty.
 */
export function convTranspose2d(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  checkConvOperands('convTranspose2d', x, w, bias, opts.group ?? 1);
  return convTransposeNd(x, w, bias, opts);
}
