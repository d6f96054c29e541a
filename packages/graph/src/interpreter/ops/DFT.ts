import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis, hostInts, unsupported } from './util.js';

/**
 * ONNX DFT as matmuls with cosine/sine matrices built on the host (differentiable, every
 * backend): signals of `[..., n, ..., 1|2]` (real, or real/imaginary in the last axis) become
 * spectra `[..., k, ..., 2]`. A direct DFT is O(n·k) per signal, which is what the sizes in
 * exported audio front ends (frames of a few hundred samples) need.
 */

/** What to compute along the transformed axis. */
export interface DftOptions {
  /** Transform length: the signal is cut or zero-padded to it (default: its length). */
  length?: number | undefined;
  inverse?: boolean;
  /** Forward: keep bins 0 … length/2 of a real signal. Inverse: the input holds those bins; the output is real. */
  onesided?: boolean;
}

/** `cos`/`sin` of 2π·k·n/length for n < rows, k < cols, exact in the argument (k·n mod length). */
function trig(rows: number, cols: number, length: number, dtype: T.DType, backend: T.BackendName): [Tensor, Tensor] {
  const c = new Float32Array(rows * cols);
  const s = new Float32Array(rows * cols);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < cols; k++) {
      const a = (2 * Math.PI * ((k * n) % length)) / length;
      c[n * cols + k] = Math.cos(a);
      s[n * cols + k] = Math.sin(a);
    }
  }
  const make = (v: Float32Array): Tensor => T.tensor(dtype === 'float32' ? v : Array.from(v), [rows, cols], dtype, { backend });
  return [make(c), make(s)];
}

/**
 * DFT of `x` (`[..., 1|2]`, real or complex in the last axis) along `axis` (an axis before the
 * last), as ONNX DFT defines it: output `[..., 2]`, the transformed axis of size `length`,
 * `length/2 + 1` for a one-sided forward transform, and for a one-sided inverse (inverse real FFT)
 * a real output `[..., 1]` of `length` samples (default `2·(bins − 1)`).
 */
export function dft(x: Tensor, axis: number, opts: DftOptions = {}): Tensor {
  const rank = x.rank;
  const parts = x.shape[rank - 1];
  if (rank < 2 || (parts !== 1 && parts !== 2)) throw new T.ShapeError(`DFT: input [${x.shape.join(',')}] must end in an axis of 1 (real) or 2 (complex)`);
  if (axis < 0 || axis >= rank - 1) throw new T.ArgumentError(`DFT: axis ${axis} is not an axis of the signal (input rank ${rank})`);
  const inverse = !!opts.inverse;
  const onesided = !!opts.onesided;
  if (onesided && !inverse && parts !== 1) throw new T.ArgumentError('DFT: a one-sided forward transform needs a real input (last axis 1)');
  const inLen = x.shape[axis]!;
  const length = opts.length ?? (onesided && inverse ? 2 * (inLen - 1) : inLen);
  if (length < 1) throw new T.ArgumentError(`DFT: transform length ${length} must be positive`);
  // the signal (or one-sided spectrum) along the last axis: [M..., used]
  const perm = [...Array(rank - 1).keys()].filter((d) => d !== axis).concat(axis);
  const moved = T.transpose(x, [...perm, rank - 1]);
  const lead = moved.shape.slice(0, rank - 2);
  const used = Math.min(inLen, onesided && inverse ? Math.floor(length / 2) + 1 : length);
  const cut = used === inLen ? moved : T.slice(moved, [0], [used], [rank - 2]);
  const re = T.reshape(T.slice(cut, [0], [1], [rank - 1]), [...lead, used]);
  const im = parts === 2 ? T.reshape(T.slice(cut, [1], [2], [rank - 1]), [...lead, used]) : undefined;
  let outRe: Tensor;
  let outIm: Tensor | undefined;
  if (onesided && inverse) {
    // x[t] = 1/n · Σ_k w_k (Re X_k cos θ − Im X_k sin θ), w = 1 for k = 0 and k = n/2, else 2
    const [c, s] = trig(used, length, length, x.dtype, x.backend);
    const w = Array.from({ length: used }, (_, k) => (k === 0 || 2 * k === length ? 1 : 2) / length);
    const wt = T.reshape(T.tensor(w, [used], x.dtype, { backend: x.backend }), [used, 1]);
    outRe = T.matmul(re, T.mul(c, wt));
    if (im) outRe = T.sub(outRe, T.matmul(im, T.mul(s, wt)));
  } else {
    const bins = onesided ? Math.floor(length / 2) + 1 : length;
    const [c, s] = trig(used, bins, length, x.dtype, x.backend);
    // forward: Re = r·cos + i·sin, Im = i·cos − r·sin; inverse flips the sine's sign and divides by n
    const sign = inverse ? -1 : 1;
    outRe = T.matmul(re, c);
    outIm = T.mulScalar(T.matmul(re, s), -sign);
    if (im) {
      outRe = T.add(outRe, T.mulScalar(T.matmul(im, s), sign));
      outIm = T.add(outIm, T.matmul(im, c));
    }
    if (inverse) {
      outRe = T.mulScalar(outRe, 1 / length);
      outIm = T.mulScalar(outIm, 1 / length);
    }
  }
  const pieces = outIm ? [T.unsqueeze(outRe, [rank - 1]), T.unsqueeze(outIm, [rank - 1])] : [T.unsqueeze(outRe, [rank - 1])];
  const y = pieces.length === 1 ? pieces[0]! : T.concat(pieces, rank - 1);
  // move the transformed axis back
  const back = perm.map((_, i) => perm.indexOf(i));
  return T.transpose(y, [...back, rank - 1]);
}

registerOp('DFT', async ([x, lengthT, axisT], ctx) => {
  if (!T.isFloat(x!.dtype)) unsupported(ctx, `a ${x!.dtype} input`);
  const length = lengthT ? (await hostInts(lengthT))[0] : undefined;
  const a = ctx.opset >= 20 ? (axisT ? (await hostInts(axisT))[0]! : -2) : ctx.int('axis', 1);
  return [dft(x!, normAxis(a, x!.rank, ctx), { length, inverse: ctx.int('inverse', 0) === 1, onesided: ctx.int('onesided', 0) === 1 })];
});
