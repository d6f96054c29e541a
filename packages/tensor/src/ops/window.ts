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
 * off the right/bottom edge but must start inside the input or the begin padding.
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
    const size = inputShape[a + 2]!;
    const padded = size + pads[a]! + pads[a + 2]!;
    const extent = ([kh, kw][a]! - 1) * dilations[a]! + 1;
    if (extent > padded) {
      throw new ShapeError(
        `${where}: the ${a ? 'width' : 'height'} of input [${inputShape.join(',')}] padded to ${padded} is smaller than the dilated kernel extent ${extent} (kernel [${kh},${kw}], dilations [${dilations.join(',')}], pads [${pads.join(',')}])`,
      );
    }
    const s = strides[a]!;
    let o = opts.ceilMode ? Math.ceil((padded - extent) / s) + 1 : Math.floor((padded - extent) / s) + 1;
    if (opts.ceilMode && (o - 1) * s >= size + pads[a]!) o--;
    out.push(o);
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
 * must start inside the input or the begin padding).
 */
export function windowNd(inputShape: readonly number[], kernel: readonly number[], opts: WindowOptions, where: string): WindowNd {
  const n = inputShape.length - 2;
  if (n < 1) throw new ShapeError(`${where}: input must be [N, C, D1, ...] (rank >= 3), got [${inputShape.join(',')}]`);
  const k = perAxis(kernel, n, 1, 'kernel', where, 1);
  const strides = perAxis(opts.strides, n, 1, 'strides', where, 1);
  const dilations = perAxis(opts.dilations, n, 1, 'dilations', where, 1);
  const pads = perAxis(opts.pads, 2 * n, 0, 'pads ([begins..., ends...])', where, 0);
  const outShape = k.map((ka, a) => {
    const size = inputShape[a + 2]!;
    const padded = size + pads[a]! + pads[a + n]!;
    const extent = (ka - 1) * dilations[a]! + 1;
    if (extent > padded) {
      throw new ShapeError(
        `${where}: spatial axis ${a} of input [${inputShape.join(',')}] padded to ${padded} is smaller than the dilated kernel extent ${extent} (kernel [${k.join(',')}], dilations [${dilations.join(',')}], pads [${pads.join(',')}])`,
      );
    }
    const s = strides[a]!;
    let o = opts.ceilMode ? Math.ceil((padded - extent) / s) + 1 : Math.floor((padded - extent) / s) + 1;
    if (opts.ceilMode && (o - 1) * s >= size + pads[a]!) o--;
    return o;
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
