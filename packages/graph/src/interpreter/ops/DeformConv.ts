import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX DeformConv (opset 19, 2-D): each kernel tap samples X bilinearly at its regular position
 * plus the learned offset (zeros outside the image), scaled by the optional mask; the sampled
 * columns `[N, C·kH·kW, oH·oW]` then meet the weights in one grouped matmul. Positions, corner
 * indices and weights are tensor ops on X's backend, so it is differentiable in X, the offsets,
 * the mask, W and B.
 */
registerOp('DeformConv', ([xIn, wIn, offIn, bIn, maskIn], ctx) => {
  const x = xIn!;
  const w = wIn!;
  const off = offIn!;
  if (x.rank !== 4 || w.rank !== 4) unsupported(ctx, `X [${x.shape.join(',')}] with W [${w.shape.join(',')}] (DeformConv runs 2-D)`);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, cg, kh, kw] = w.shape as [number, number, number, number];
  const group = ctx.int('group', 1);
  const og = ctx.int('offset_group', 1);
  const [dh, dw] = ctx.ints('dilations') ?? [1, 1];
  const [sh, sw] = ctx.ints('strides') ?? [1, 1];
  const [pt, pl, pb, pr] = ctx.ints('pads') ?? [0, 0, 0, 0];
  if (cg * group !== c || c % og !== 0 || oc % group !== 0) unsupported(ctx, `${c} channels with group ${group}, offset_group ${og} and W [${w.shape.join(',')}]`);
  const oh = Math.floor((h + pt! + pb! - (dh! * (kh - 1) + 1)) / sh!) + 1;
  const ow = Math.floor((wd + pl! + pr! - (dw! * (kw - 1) + 1)) / sw!) + 1;
  const k = kh * kw;
  const l = oh * ow;
  if (off.shape.join(',') !== [n, og * 2 * k, oh, ow].join(',')) unsupported(ctx, `offsets [${off.shape.join(',')}] (expected [${[n, og * 2 * k, oh, ow].join(',')}])`);
  const opts = { backend: x.backend };
  // regular sampling grid [1, 1, K, L] per axis, plus the offsets [N, G, K, L]
  const base = (axis: 'y' | 'x'): Tensor => {
    const v = new Float32Array(k * l);
    for (let i = 0; i < k; i++) {
      for (let p = 0; p < l; p++) {
        const [ki, kj, pi, pj] = [Math.floor(i / kw), i % kw, Math.floor(p / ow), p % ow];
        v[i * l + p] = axis === 'y' ? pi * sh! - pt! + ki * dh! : pj * sw! - pl! + kj * dw!;
      }
    }
    return T.tensor(v, [1, 1, k, l], 'float32', opts);
  };
  const o = T.reshape(off.dtype === 'float32' ? off : T.cast(off, 'float32'), [n, og, k, 2, l]);
  const pick = (j: number): Tensor => T.reshape(T.slice(o, [j], [j + 1], [3]), [n, og, k, l]);
  const py = T.add(base('y'), pick(0));
  const px = T.add(base('x'), pick(1));
  const y0 = T.floor(py);
  const x0 = T.floor(px);
  const flat = T.reshape(x, [n, c, h * wd]);
  const f32 = (v: number): Tensor => T.full([], v, 'float32', opts);
  let cols: Tensor | undefined;
  for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
    const yi = T.addScalar(y0, dy);
    const xi = T.addScalar(x0, dx);
    // bilinear weight of this corner, zero when the corner lies outside the image
    const wy = dy ? T.sub(py, y0) : T.sub(f32(1), T.sub(py, y0));
    const wx = dx ? T.sub(px, x0) : T.sub(f32(1), T.sub(px, x0));
    const inside = T.logicalAnd(
      T.logicalAnd(T.greaterEqual(yi, f32(0)), T.lessEqual(yi, f32(h - 1))),
      T.logicalAnd(T.greaterEqual(xi, f32(0)), T.lessEqual(xi, f32(wd - 1))),
    );
    const weight = T.where(inside, T.mul(wy, wx), T.zerosLike(wy));
    const index = T.cast(T.add(T.mulScalar(T.clip(yi, 0, h - 1), wd), T.clip(xi, 0, wd - 1)), 'int32');
    // every channel of an offset group reads its group's positions: [N, G, C/G, K·L] → [N, C, K·L]
    const spread = (t: Tensor): Tensor => T.reshape(T.expand(T.reshape(t, [n, og, 1, k * l]), [n, og, c / og, k * l]), [n, c, k * l]);
    const v = T.mul(T.gatherElements(flat, T.contiguous(spread(index)), 2), T.cast(spread(weight), x.dtype));
    cols = cols ? T.add(cols, v) : v;
  }
  if (maskIn) {
    const m = T.reshape(maskIn.dtype === x.dtype ? maskIn : T.cast(maskIn, x.dtype), [n, og, k, l]);
    cols = T.mul(cols!, T.reshape(T.expand(T.reshape(m, [n, og, 1, k * l]), [n, og, c / og, k * l]), [n, c, k * l]));
  }
  // grouped product: [N, group, C/group·K, L] with W [group, oc/group, C/group·K]
  const a = T.reshape(cols!, [n, group, cg * k, l]);
  const wg = T.reshape(w, [1, group, oc / group, cg * k]);
  let y = T.reshape(T.matmul(wg, a), [n, oc, oh, ow]);
  if (bIn) y = T.add(y, T.reshape(bIn, [1, oc, 1, 1]));
  return [y];
});
