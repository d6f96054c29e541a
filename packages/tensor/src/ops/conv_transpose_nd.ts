import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { add } from './binary.js';
import { checkFloat, windowAttrs } from './im2col.js';
import { matmul } from './matmul.js';
import { reshape } from './views.js';
import { windowNd } from './window.js';

/** Options of {@link convTransposeNd} (one entry per spatial axis). */
export interface ConvTransposeNdOptions {
  /** Strides, default all 1. */
  strides?: readonly number[];
  /** [begins..., ends...] cropped from the full output, default zeros. */
  pads?: readonly number[];
  /** Dilations, default all 1. */
  dilations?: readonly number[];
  /** Number of groups, default 1. */
  group?: number;
  /** Extra positions added at the end of each spatial axis of the output (each < its stride). */
  outputPadding?: readonly number[];
}

/**
 * Transposed convolution over any number n >= 1 of spatial axes (ONNX ConvTranspose):
 * x [N, C, D1..Dn], w [C, M/group, k1..kn], optional bias [M] → [N, M, O1..On] with
 * O_a = s_a*(D_a-1) + outputPadding_a + (k_a-1)*d_a + 1 - padBegin_a - padEnd_a.
 * Computed as a (per-group) matmul with wᵀ followed by col2im. Differentiable in x, w and bias
 * for n = 2 (Col2Im's gradient, Im2Col, is 2-D).
 * @throws ShapeError when ranks or channels do not match, group does not divide them, or the output is empty.
 */
export function convTransposeNd(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvTransposeNdOptions = {}): Tensor {
  const op = 'convTranspose';
  const n = x.rank - 2;
  const G = opts.group ?? 1;
  if (n < 1 || w.rank !== x.rank) {
    throw new ShapeError(`${op}: x must be [N, C, D1, ...] and w [C, M/group, k1, ...] of the same rank, got [${x.shape.join(',')}] and [${w.shape.join(',')}]`);
  }
  checkFloat(x, op);
  if (w.dtype !== x.dtype || (bias && bias.dtype !== x.dtype)) {
    throw new DTypeError(`${op}: input, weight${bias ? ' and bias' : ''} must share a dtype, got ${x.dtype}, ${w.dtype}${bias ? `, ${bias.dtype}` : ''}`);
  }
  if (!Number.isInteger(G) || G < 1) throw new ArgumentError(`${op}: group must be a positive integer, got ${G}`);
  const [N, C] = x.shape as [number, number];
  const dims = x.shape.slice(2);
  const kernel = w.shape.slice(2);
  const [Cw, Mg] = w.shape as [number, number];
  if (Cw !== C) throw new ShapeError(`${op}: weight [${w.shape.join(',')}] expects ${Cw} input channels but x [${x.shape.join(',')}] has ${C}`);
  if (C % G !== 0) throw new ShapeError(`${op}: group ${G} must divide the input channels of x [${x.shape.join(',')}]`);
  const strides = opts.strides ?? new Array<number>(n).fill(1);
  const dil = opts.dilations ?? new Array<number>(n).fill(1);
  const pads = opts.pads ?? new Array<number>(2 * n).fill(0);
  const outPad = opts.outputPadding ?? new Array<number>(n).fill(0);
  if (strides.length !== n || dil.length !== n || pads.length !== 2 * n) {
    throw new ArgumentError(`${op}: need ${n} strides, ${n} dilations and ${2 * n} pads; got [${strides.join(',')}], [${dil.join(',')}], [${pads.join(',')}]`);
  }
  if (outPad.length !== n || outPad.some((p, a) => !Number.isInteger(p) || p < 0 || p >= strides[a]!)) {
    throw new ArgumentError(`${op}: outputPadding [${outPad.join(',')}] must be ${n} integers in [0, stride) (strides [${strides.join(',')}])`);
  }
  const out = dims.map((d, a) => strides[a]! * (d - 1) + outPad[a]! + (kernel[a]! - 1) * dil[a]! + 1 - pads[a]! - pads[a + n]!);
  if (out.some((o) => o <= 0)) {
    throw new ShapeError(`${op}: pads [${pads.join(',')}] crop the whole output of x [${x.shape.join(',')}] with weight [${w.shape.join(',')}] (output ${out.join('x')})`);
  }
  const M = Mg * G;
  const Cg = C / G;
  const taps = kernel.reduce((p, k) => p * k, 1);
  const L = dims.reduce((p, d) => p * d, 1);
  const Kg = Mg * taps;
  // col [N, G, Kg, L] = w_gᵀ [Kg, Cg] x x_g [Cg, L]
  const col = G === 1 ? matmul(reshape(w, [C, Kg]), reshape(x, [N, C, L]), { transA: true }) : matmul(reshape(w, [G, Cg, Kg]), reshape(x, [N, G, Cg, L]), { transA: true });
  const win = windowNd([N, M, ...out], kernel, { strides, pads, dilations: dil }, op);
  if (win.outShape.some((o, a) => o !== dims[a])) throw new ShapeError(`${op}: internal window mismatch ${win.outShape.join('x')} vs ${dims.join('x')}`);
  const pointwise = taps === 1 && win.strides.every((s) => s === 1) && win.pads.every((p) => p === 0);
  const y = pointwise ? reshape(col, [N, M, ...out]) : engine().run1('Col2Im', [reshape(col, [N, M * taps, L])], windowAttrs(win, { imageShape: out }));
  if (!bias) return y;
  if (bias.rank !== 1 || bias.shape[0] !== M) throw new ShapeError(`${op}: bias must have shape [${M}] (one per output channel), got [${bias.shape.join(',')}]`);
  return add(y, reshape(bias, [1, M, ...out.map(() => 1)]));
}
