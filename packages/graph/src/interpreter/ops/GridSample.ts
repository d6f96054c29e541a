import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX GridSample (opset 16 bilinear/bicubic, opset 20+ linear/cubic and N-D) on tensor ops, so
 * it runs on every backend and is differentiable in X and, for linear and cubic, in the grid:
 * grid coordinates are unnormalized, nearest rounds them, border/reflection padding moves
 * coordinates outside the image inside (onnx's reference, after PyTorch), then each of the
 * 1, 2^r or 4^r taps gathers its pixels from X flattened per channel and adds them with their
 * weights (zeros padding: taps outside read 0).
 */

const CUBIC_ALPHA = -0.75;

/** Keys' cubic convolution weights of the taps at offsets −1, 0, 1, 2 from ⌊x⌋, for t = x − ⌊x⌋. */
function cubicWeights(t: Tensor): Tensor[] {
  const a = CUBIC_ALPHA;
  const far = (d: Tensor): Tensor => T.addScalar(T.mul(T.addScalar(T.mul(T.addScalar(T.mulScalar(d, a), -5 * a), d), 8 * a), d), -4 * a); // 1 < d < 2
  const near = (d: Tensor): Tensor => T.addScalar(T.mul(T.mul(T.addScalar(T.mulScalar(d, a + 2), -(a + 3)), d), d), 1); // d ≤ 1
  const one = T.full([], 1, t.dtype, { backend: t.backend });
  const two = T.full([], 2, t.dtype, { backend: t.backend });
  return [far(T.add(t, one)), near(t), near(T.sub(one, t)), far(T.sub(two, t))];
}

/** Reflect x into [lo, hi] by its nearer border, repeatedly (onnx reference `_gs_reflect`). */
function reflect(x: Tensor, lo: number, hi: number): Tensor {
  const range = hi - lo;
  if (range <= 0) return T.full(x.shape, lo, x.dtype, { backend: x.backend });
  const side = (dx: Tensor, start: number, sign: number): Tensor => {
    const n = T.floor(T.mulScalar(dx, 1 / range));
    const r = T.sub(dx, T.mulScalar(n, range));
    const even = T.equal(T.sub(n, T.mulScalar(T.floor(T.mulScalar(n, 0.5)), 2)), T.full([], 0, x.dtype, { backend: x.backend }));
    // an even number of bounces lands r inside from `start`, an odd one r inside from the other border
    return T.where(even, T.addScalar(T.mulScalar(r, sign), start), T.addScalar(T.mulScalar(r, -sign), start === lo ? hi : lo));
  };
  const below = T.less(x, T.full([], lo, x.dtype, { backend: x.backend }));
  const above = T.greater(x, T.full([], hi, x.dtype, { backend: x.backend }));
  const fromLo = side(T.addScalar(T.neg(x), lo), lo, 1);
  const fromHi = side(T.addScalar(x, -hi), hi, -1);
  return T.where(below, fromLo, T.where(above, fromHi, x));
}

registerOp('GridSample', ([xIn, gridIn], ctx) => {
  const x = xIn!;
  const grid = gridIn!;
  const r = x.rank - 2;
  if (r < 1 || grid.rank !== r + 2 || grid.shape[r + 1] !== r || grid.shape[0] !== x.shape[0]) {
    unsupported(ctx, `X [${x.shape.join(',')}] with grid [${grid.shape.join(',')}] (expected [N, C, D1..Dr] and [N, O1..Or, r])`);
  }
  const modeAttr = ctx.string('mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
  const mode = modeAttr === 'bilinear' ? 'linear' : modeAttr === 'bicubic' ? 'cubic' : modeAttr;
  if (mode !== 'linear' && mode !== 'nearest' && mode !== 'cubic') unsupported(ctx, `mode '${modeAttr}'`);
  const padding = ctx.string('padding_mode', 'zeros');
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection') unsupported(ctx, `padding_mode '${padding}'`);
  const align = ctx.int('align_corners', 0) === 1;
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const dims = x.shape.slice(2);
  const outSpatial = grid.shape.slice(1, r + 1);
  const o = outSpatial.reduce((p, d) => p * d, 1);
  const g = T.reshape(grid.dtype === 'float32' ? grid : T.cast(grid, 'float32'), [n, o, r]);
  // coordinates per spatial dim d (grid's last axis lists them from the last dim backwards)
  const coords = dims.map((size, d) => {
    const gn = T.reshape(T.slice(g, [r - 1 - d], [r - d], [2]), [n, o]);
    let p = align ? T.mulScalar(T.addScalar(gn, 1), (size - 1) / 2) : T.mulScalar(T.addScalar(T.mulScalar(gn, size), size - 1), 0.5);
    // nearest rounds half to even (nearbyint), as the node tests of every rank expect
    if (mode === 'nearest') p = T.round(p);
    const [lo, hi] = align ? [0, size - 1] : [-0.5, size - 0.5];
    // cubic clamps each tap, not the coordinate (PyTorch and onnxruntime; for linear the two agree)
    if (padding === 'border' && mode !== 'cubic') {
      const out = T.logicalOr(T.less(p, T.full([], lo, 'float32', { backend: p.backend })), T.greater(p, T.full([], hi, 'float32', { backend: p.backend })));
      p = T.where(out, T.clip(p, 0, size - 1), p);
    } else if (padding === 'reflection') {
      p = reflect(p, lo, hi);
    }
    return { p, size, lo, hi };
  });
  // per dim: the taps' integer positions and weights
  const taps = coords.map(({ p }) => {
    if (mode === 'nearest') return [{ i: p, w: undefined as Tensor | undefined }];
    const f = T.floor(p);
    const t = T.sub(p, f);
    if (mode === 'linear') return [{ i: f, w: T.sub(T.full([], 1, 'float32', { backend: p.backend }), t) }, { i: T.addScalar(f, 1), w: t }];
    return cubicWeights(t).map((w, k) => ({ i: T.addScalar(f, k - 1), w: w as Tensor | undefined }));
  });
  const flat = T.reshape(x, [n, c, dims.reduce((p, d) => p * d, 1)]);
  const strides = dims.map((_, d) => dims.slice(d + 1).reduce((p, s) => p * s, 1));
  let y: Tensor | undefined;
  const combos = taps.reduce<number[][]>((acc, t) => acc.flatMap((a) => t.map((_, k) => [...a, k])), [[]]);
  for (const combo of combos) {
    let index: Tensor | undefined;
    let weight: Tensor | undefined;
    let valid: Tensor | undefined;
    combo.forEach((k, d) => {
      const { size, lo, hi } = coords[d]!;
      const tap = taps[d]![k]!;
      let i = tap.i;
      if (padding === 'zeros') {
        const inside = T.logicalAnd(T.greaterEqual(i, T.full([], 0, 'float32', { backend: i.backend })), T.lessEqual(i, T.full([], size - 1, 'float32', { backend: i.backend })));
        valid = valid ? T.logicalAnd(valid, inside) : inside;
      } else if (padding === 'reflection' && mode !== 'nearest') {
        i = reflect(i, lo, hi);
      }
      i = T.clip(i, 0, size - 1);
      const term = T.mulScalar(i, strides[d]!);
      index = index ? T.add(index, term) : term;
      if (tap.w) weight = weight ? T.mul(weight, tap.w) : tap.w;
    });
    const idx = T.expand(T.reshape(T.cast(T.floor(index!), 'int32'), [n, 1, o]), [n, c, o]);
    let v = T.gatherElements(flat, T.contiguous(idx), 2);
    let scale = weight;
    if (valid) scale = scale ? T.where(valid, scale, T.zerosLike(scale)) : T.cast(valid, 'float32');
    if (scale) v = T.mul(v, T.reshape(scale.dtype === x.dtype ? scale : T.cast(scale, x.dtype), [n, 1, o]));
    y = y ? T.add(y, v) : v;
  }
  return [T.reshape(y!, [n, c, ...outSpatial])];
});
