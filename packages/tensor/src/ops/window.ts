import { ArgumentError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Window2d, WindowNd } from '../kernel_names.js';

export type { Window2d, WindowNd } from '../kernel_names.js';

/** Options naming a 2-D window. */
export interface WindowOptions {
  strides?: readonly number[];
  pads?: readonly number[];
  dilations?: readonly number[];
  ceilMode?: boolean;
  /**
   * Count windows as pooling does ({@link poolOutputSize}): a window may run off the end of an
   * input shorter than it. Without it (convolution) the window must fit the padded input.
   */
  pooling?: boolean;
}

/**
 * Number of pooling windows along one axis (MaxPool, AveragePool, LpPool), as ONNX Runtime
 * counts them: (padded − extent) / stride + 1, the division rounded up with `ceilMode` and
 * otherwise truncated toward zero, where extent = (kernel − 1) · dilation + 1. For a padded
 * input at least the extent long this is the ONNX spec's floor/ceil formula. For a shorter one
 * ONNX Runtime (unlike the spec's floor, which gives 0) still gives one window, clipped to the
 * input, while the input falls short of the extent by less than a stride, none (an empty
 * output) while it falls short by less than two strides, and fails beyond (here: a negative
 * count, which callers reject). With `ceilMode` a window that would start in the end padding
 * is dropped (the spec's rule).
 */
export function poolOutputSize(size: number, padBegin: number, padEnd: number, kernel: number, stride: number, dilation: number, ceilMode: boolean): number {
  const span = size + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  let o = (ceilMode ? Math.ceil(span / stride) : Math.trunc(span / stride)) + 1;
  if (ceilMode && o > 0 && (o - 1) * stride >= size + padBegin) o--;
  return o;
}

/**
 * Window count along one axis, or a ShapeError when the padded input is too short; `describe`
 * gives the message's subject (the axis of the input) and the window's geometry.
 */
function axisOut(size: number, pb: number, pe: number, k: number, s: number, d: number, opts: WindowOptions, describe: () => [string, string]): number {
  const padded = size + pb + pe;
  const extent = (k - 1) * d + 1;
  if (opts.pooling) {
    const o = poolOutputSize(size, pb, pe, k, s, d, !!opts.ceilMode);
    if (o < 0) {
      const [what, geometry] = describe();
      throw new ShapeError(`${what} padded to ${padded} is shorter than the dilated kernel extent ${extent} by twice the stride (${s}) or more, so not even an empty output is defined (${geometry})`);
    }
    return o;
  }
  if (extent > padded) {
    const [what, geometry] = describe();
    throw new ShapeError(`${what} padded to ${padded} is smaller than the dilated kernel extent ${extent} (${geometry})`);
  }
  let o = opts.ceilMode ? Math.ceil((padded - extent) / s) + 1 : Math.floor((padded - extent) / s) + 1;
  if (opts.ceilMode && (o - 1) * s >= size + pb) o--;
  return o;
}

function pair(v: readonly number[] | undefined, dflt: number, name: string, where: string, min: number): [number, number] {
  const p = v ?? [dflt, dflt];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`${where}: ${name} must be two integers >= ${min}, got [${p.join(',')}]`);
  }
  return [p[0]!, p[1]!];
}

/**
 * Validate window options and compute the output size. ceilMode follows ONNX: a window may run
 * off the right/bottom edge but must start inside the input or the begin padding; `pooling`
 * counts windows as {@link poolOutputSize}.
 */
export function window2d(
  inputShape: readonly number[],
  kernel: readonly number[],
  opts: WindowOptions,
  where: string,
): Window2d {
  const [kh, kw] = pair(kernel, 1, 'kernel', where, 1);
  const strides = pair(opts.strides, 1, 'strides', where, 1);
  const dilations = pair(opts.dilations, 1, 'dilations', where, 1);
  const p = opts.pads ?? [0, 0, 0, 0];
  if (p.length !== 4 || !p.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`${where}: pads must be 4 non-negative integers [top, left, bottom, right], got [${p.join(',')}]`);
  }
  const pads: [number, number, number, number] = [p[0]!, p[1]!, p[2]!, p[3]!];
  const out: number[] = [];
  for (let a = 0; a < 2; a++) {
    const describe = (): [string, string] => [`${where}: the ${a ? 'width' : 'height'} of input [${inputShape.join(',')}]`, `kernel [${kh},${kw}], strides [${strides.join(',')}], dilations [${dilations.join(',')}], pads [${pads.join(',')}]`];
    out.push(axisOut(inputShape[a + 2]!, pads[a]!, pads[a + 2]!, [kh, kw][a]!, strides[a]!, dilations[a]!, opts, describe));
  }
  return { kernel: [kh, kw], strides, pads, dilations, outShape: [out[0]!, out[1]!] };
}


function perAxis(v: readonly number[] | undefined, n: number, dflt: number, name: string, where: string, min: number): number[] {
  const p = v ?? new Array<number>(n).fill(dflt);
  if (p.length !== n || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(`${where}: ${name} must be ${n} integers >= ${min} (one per spatial axis), got [${p.join(',')}]`);
  }
  return [...p];
}

/**
 * Validate N-d window options over `inputShape` [N, C, D1, ..., Dn] and compute the number of
 * window positions per axis (ceilMode as {@link window2d}: a window may run off the end but
 * must start inside the input or the begin padding; `pooling` as {@link poolOutputSize}).
 */
export function windowNd(inputShape: readonly number[], kernel: readonly number[], opts: WindowOptions, where: string): WindowNd {
  const n = inputShape.length - 2;
  if (n < 1) throw new ShapeError(`${where}: input must be [N, C, D1, ...] (rank >= 3), got [${inputShape.join(',')}]`);
  const k = perAxis(kernel, n, 1, 'kernel', where, 1);
  const strides = perAxis(opts.strides, n, 1, 'strides', where, 1);
  const dilations = perAxis(opts.dilations, n, 1, 'dilations', where, 1);
  const pads = perAxis(opts.pads, 2 * n, 0, 'pads ([begins..., ends...])', where, 0);
  const outShape = k.map((ka, a) => {
    const describe = (): [string, string] => [`${where}: spatial axis ${a} of input [${inputShape.join(',')}]`, `kernel [${k.join(',')}], strides [${strides.join(',')}], dilations [${dilations.join(',')}], pads [${pads.join(',')}]`];
    return axisOut(inputShape[a + 2]!, pads[a]!, pads[a + n]!, ka, strides[a]!, dilations[a]!, opts, describe);
  });
  return { kernel: k, strides, pads, dilations, outShape };
}

/** Require a rank-4 NCHW float tensor. */
export function checkNchw(x: Tensor, where: string, what = 'input'): void {
  if (x.rank !== 4) throw new ShapeError(`${where}: ${what} must be NCHW (rank 4), got shape [${x.shape.join(',')}]`);
}

/** The 2-D case of an N-d window (Im2Col's attrs); a ShapeError when `w` is not 2-D. */
export function asWindow2d(w: WindowNd, where: string): Window2d {
  const { kernel: k, strides: s, pads: p, dilations: d, outShape: o } = w;
  if (k.length !== 2 || s.length !== 2 || p.length !== 4 || d.length !== 2 || o.length !== 2) {
    throw new ShapeError(`${where}: a window over ${k.length} spatial axes is not 2-D`);
  }
  return { kernel: [k[0]!, k[1]!], strides: [s[0]!, s[1]!], pads: [p[0]!, p[1]!, p[2]!, p[3]!], dilations: [d[0]!, d[1]!], outShape: [o[0]!, o[1]!] };
}
