import { ArgumentError, ShapeError } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { addChannelBias, checkConvOperands } from './conv2d.js';
import { windowAttrs } from './im2col.js';
import { matmul } from './matmul.js';
import { reshape } from './views.js';
import { window2d } from './window.js';

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
 * Computed as a (per-group) matmul with wᵀ followed by col2im; differentiable in x, w and bias.
 * @throws ShapeError when channels do not match, group does not divide them, or the output is empty.
 */
export function convTranspose2d(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  const G = opts.group ?? 1;
  checkConvOperands('convTranspose2d', x, w, bias, G);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Cw, Mg, kh, kw] = w.shape as [number, number, number, number];
  if (Cw !== C) {
    throw new ShapeError(`convTranspose2d: weight [${w.shape.join(',')}] expects ${Cw} input channels but x [${x.shape.join(',')}] has ${C}`);
  }
  if (C % G !== 0) throw new ShapeError(`convTranspose2d: group ${G} must divide the input channels of x [${x.shape.join(',')}]`);
  const strides = opts.strides ?? [1, 1];
  const dil = opts.dilations ?? [1, 1];
  const pads = opts.pads ?? [0, 0, 0, 0];
  const op = opts.outputPadding ?? [0, 0];
  if (op.length !== 2 || op.some((p, a) => !Number.isInteger(p) || p < 0 || p >= (strides[a] ?? 1))) {
    throw new ArgumentError(`convTranspose2d: outputPadding [${op.join(',')}] must be two integers in [0, stride) (strides [${strides.join(',')}])`);
  }
  if (pads.length !== 4 || strides.length !== 2 || dil.length !== 2) {
    throw new ArgumentError(`convTranspose2d: need strides [sh, sw], dilations [dh, dw] and pads [top, left, bottom, right]; got [${strides.join(',')}], [${dil.join(',')}], [${pads.join(',')}]`);
  }
  const out = [H, W].map((d, a) => strides[a]! * (d - 1) + op[a]! + ([kh, kw][a]! - 1) * dil[a]! + 1 - pads[a]! - pads[a + 2]!);
  const [OH, OW] = out as [number, number];
  if (OH <= 0 || OW <= 0) {
    throw new ShapeError(`convTranspose2d: pads [${pads.join(',')}] crop the whole output of x [${x.shape.join(',')}] with weight [${w.shape.join(',')}] (output ${OH}x${OW})`);
  }
  const M = Mg * G;
  const Cg = C / G;
  const Kg = Mg * kh * kw;
  // col [N, G, Kg, H*W] = w_gᵀ [Kg, Cg] x x_g [Cg, H*W]
  const col = G === 1 ? matmul(reshape(w, [C, Kg]), reshape(x, [N, C, H * W]), { transA: true }) : matmul(reshape(w, [G, Cg, Kg]), reshape(x, [N, G, Cg, H * W]), { transA: true });
  const win = window2d([N, M, OH, OW], [kh, kw], { strides, pads, dilations: dil }, 'convTranspose2d');
  if (win.outShape[0] !== H || win.outShape[1] !== W) {
    throw new ShapeError(`convTranspose2d: internal window mismatch ${win.outShape.join('x')} vs ${H}x${W}`);
  }
  const pointwise = kh === 1 && kw === 1 && win.strides.every((s) => s === 1) && win.pads.every((p) => p === 0);
  const y = pointwise ? reshape(col, [N, M, OH, OW]) : engine().run1('Col2Im', [reshape(col, [N, M * kh * kw, H * W])], windowAttrs(win, { imageShape: [OH, OW] }));
  return addChannelBias('convTranspose2d', y, bias);
}
