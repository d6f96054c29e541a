import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX AffineGrid (opset 20): the sampling grid GridSample takes, from affine matrices theta
 * `[N, 2, 3]` (2-D) or `[N, 3, 4]` (3-D) and an output size `[N, C, (D,) H, W]`: the normalized
 * base coordinates (x, y(, z), 1) of every output position times thetaᵀ. One batched matmul on
 * theta's backend, differentiable in theta.
 */
registerOp('AffineGrid', async ([theta, sizeT], ctx) => {
  const size = await hostInts(sizeT!);
  const r = size.length - 2;
  const t = theta!;
  if ((r !== 2 && r !== 3) || t.rank !== 3 || t.shape[1] !== r || t.shape[2] !== r + 1 || t.shape[0] !== size[0]) {
    unsupported(ctx, `theta [${t.shape.join(',')}] with size [${size.join(',')}]`);
  }
  const align = ctx.int('align_corners', 0) === 1;
  const spatial = size.slice(2);
  // normalized coordinates of index i along a dim of n: linspace(-1, 1) or pixel centres
  const coord = (i: number, n: number): number => (align ? (n > 1 ? -1 + (2 * i) / (n - 1) : 0) : (2 * i + 1) / n - 1);
  const points = spatial.reduce((p, d) => p * d, 1);
  const base = new Float32Array(points * (r + 1));
  for (let p = 0; p < points; p++) {
    // spatial index of p (last dim fastest); base lists x (last dim) first
    let rest = p;
    const idx = new Array<number>(r);
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = rest % spatial[d]!;
      rest = Math.floor(rest / spatial[d]!);
    }
    for (let k = 0; k < r; k++) base[p * (r + 1) + k] = coord(idx[r - 1 - k]!, spatial[r - 1 - k]!);
    base[p * (r + 1) + r] = 1;
  }
  const b = T.tensor(base, [1, points, r + 1], 'float32', { backend: t.backend });
  const grid = T.matmul(t.dtype === 'float32' ? b : T.cast(b, t.dtype), T.transpose(t, [0, 2, 1]));
  return [T.reshape(grid, [size[0]!, ...spatial, r])];
});
