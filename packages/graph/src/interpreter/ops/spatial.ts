import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';

/**
 * 1-D and 2-D spatial ops run on the 2-D tensor kernels: a 1-D NCL tensor becomes NC1L and
 * its per-axis attributes gain a leading identity entry.
 */
export interface Spatial2d {
  /** x as NCHW. */
  x: Tensor;
  /** Turn an NCHW result back into the input's spatial rank. */
  back: (y: Tensor) => Tensor;
  /** Lift a per-spatial-axis list [a] → [1, a] (or keep [a, b]). */
  lift: (v: readonly number[], fill: number) => number[];
  /** Lift pads [b, e] → [0, b, 0, e]. */
  liftPads: (p: readonly number[]) => number[];
}

export function toSpatial2d(x: Tensor, ctx: OpContext): Spatial2d {
  if (x.rank === 4) return { x, back: (y) => y, lift: (v) => [...v], liftPads: (p) => [...p] };
  if (x.rank === 3) {
    const [N, C, L] = x.shape as [number, number, number];
    return {
      x: T.reshape(x, [N, C, 1, L]),
      back: (y) => T.reshape(y, [y.shape[0]!, y.shape[1]!, y.shape[3]!]),
      lift: (v, fill) => [fill, v[0]!],
      liftPads: (p) => [0, p[0]!, 0, p[1]!],
    };
  }
  return unsupported(ctx, `${x.rank - 2}-D spatial input [${x.shape.join(',')}] (1-D and 2-D are)`);
}

/** A 1-D weight [M, C, k] as [M, C, 1, k]. */
export function weight2d(w: Tensor): Tensor {
  return w.rank === 3 ? T.reshape(w, [w.shape[0]!, w.shape[1]!, 1, w.shape[2]!]) : w;
}
