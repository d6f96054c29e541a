import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, mul } from './binary.js';
import { sum } from './reduce.js';
import { checkFloat, windowAttrs } from './im2col.js';
import { gemm } from './gemm.js';
import { matmul } from './matmul.js';
import { reshape } from './views.js';
import { checkNchw, window2d } from './window.js';

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** [sh, sw], default [1, 1]. */
  strides?: readonly number[];
  /** [top, left, bottom, right], default zeros (explicit pads; auto_pad is resolved by callers). */
  pads?: readonly number[];
  /** [dh, dw], default [1, 1]. */
  dilations?: readonly number[];
  /** Number of groups; C and M must be multiples of it (group = C is depthwise). Default 1. */
  group?: number;
}

/** @internal Shared checks of conv2d / convTranspose2d operands. */
export function checkConvOperands(op: string, x: Tensor, w: Tensor, bias: Tensor | undefined, group: number): void {
  checkNchw(x, op);
  checkNchw(w, op, 'weight');
  checkFloat(x, op);
  if (w.dtype !== x.dtype || (bias && bias.dtype !== x.dtype)) {
    throw new DTypeError(`${op}: input, weight${bias ? ' and bias' : ''} must share a dtype, got ${x.dtype}, ${w.dtype}${bias ? `, ${bias.dtype}` : ''}`);
  }
  if (!Number.isInteger(group) || group < 1) throw new ArgumentError(`${op}: group must be a positive integer, got ${group}`);
}

/** Add a per-channel bias [M] to y [N, M, H, W]. */
export function addChannelBias(op: string, y: Tensor, bias: Tensor | undefined): Tensor {
  if (!bias) return y;
  const M = y.shape[1]!;
  checkChannelBias(op, M, bias);
  return add(y, reshape(bias, [1, M, 1, 1]));
}

function checkChannelBias(op: string, M: number, bias: Tensor): void {
  if (bias.rank !== 1 || bias.shape[0] !== M) {
    throw new ShapeError(`${op}: bias must have shape [${M}] (one per output channel), got [${bias.shape.join(',')}]`);
  }
}

/**
 * 2-D convolution (ONNX Conv, NCHW): x [N, C, H, W], w [M, C/group, kh, kw], optional bias [M]
 * → [N, M, OH, OW]. Computed as im2col + (batched, per-group) matmul, so it is differentiable
 * in x, w and bias through those ops' gradients (on the cpu, when no input needs a gradient, one
 * fused kernel does both).
 *
 * ```ts
 * conv2d(x, w, b, { strides: [2, 2], pads: [1, 1, 1, 1] })
 * conv2d(x, wDepthwise, undefined, { group: x.shape[1] })
 * ```
 * @throws ShapeError when channels do not match, group does not divide C or M, or the kernel
 *   does not fit the padded input.
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  const G = opts.group ?? 1;
  checkConvOperands('conv2d', x, w, bias, G);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [M, Cg, kh, kw] = w.shape as [number, number, number, number];
  if (C % G !== 0 || M % G !== 0) {
    throw new ShapeError(`conv2d: group ${G} must divide the input channels (x [${x.shape.join(',')}]) and the output channels (w [${w.shape.join(',')}])`);
  }
  if (Cg * G !== C) {
    throw new ShapeError(`conv2d: weight [${w.shape.join(',')}] expects ${Cg * G} input channels (${Cg} per group x ${G} groups) but x [${x.shape.join(',')}] has ${C}`);
  }
  const win = window2d(x.shape, [kh, kw], opts, 'conv2d');
  const [OH, OW] = win.outShape;
  const L = OH * OW;
  const pointwise = kh === 1 && kw === 1 && win.strides.every((s) => s === 1) && win.pads.every((p) => p === 0);
  const K = Cg * kh * kw;
  if (G === 1 && !pointwise && x.backend === 'cpu' && !(engine().gradEnabled && [x, w, bias].some((t) => t?.requiresGrad))) {
    // inference on the cpu: unfold and GEMM in one kernel, the columns never leave WASM memory
    if (bias) checkChannelBias('conv2d', M, bias);
    const inputs = bias ? [x, reshape(w, [M, K]), bias] : [x, reshape(w, [M, K])];
    return reshape(engine().run1('Conv2dFused', inputs, windowAttrs(win, {})), [N, M, OH, OW]);
  }
  // col [N, C*kh*kw, L]; row (c*kh + i)*kw + j groups channels contiguously, so group g owns rows [g*K, (g+1)*K)
  const col = pointwise ? reshape(x, [N, C, H * W]) : engine().run1('Im2Col', [x], windowAttrs(win, {}));
  if (G === 1 && N === 1 && bias && x.backend === 'cpu') {
    // one image on the cpu: the bias initialises Gemm's accumulator, saving a broadcast add pass
    // (the largest cost after the GEMM on small convolutions such as LeNet's)
    checkChannelBias('conv2d', M, bias);
    const y2 = gemm(reshape(w, [M, K]), reshape(col, [K, L]), reshape(bias, [M, 1]));
    return reshape(y2, [N, M, OH, OW]);
  }
  const y =
    G === 1
      ? matmul(reshape(w, [M, K]), col) // [M, K] x [N, K, L] → [N, M, L]
      : M === G && x.backend !== 'cpu'
        ? // depthwise on a GPU: G one-row matmuls would each fill a whole output tile; multiply and reduce over K instead
          sum(mul(reshape(col, [N, G, K, L]), reshape(w, [1, G, K, 1])), [2]) // → [N, G, L]
        : matmul(reshape(w, [G, M / G, K]), reshape(col, [N, G, K, L])); // → [N, G, M/G, L]
  return addChannelBias('conv2d', reshape(y, [N, M, OH, OW]), bias);
}
