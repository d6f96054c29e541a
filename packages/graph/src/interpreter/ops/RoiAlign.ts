import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostFloats, hostInts, unsupported } from './util.js';

/**
 * ONNX RoiAlign (opsets 10 and 16): the sample points of every region, bin and sampling cell
 * and their bilinear taps are computed on the host from the (small) rois input, as onnxruntime
 * does; the taps are gathered from X's pixels on its backend and averaged (or, for mode max,
 * the largest weighted tap kept, onnxruntime's definition), so the op is differentiable in X.
 */
registerOp('RoiAlign', async ([xIn, roisIn, batchIn], ctx) => {
  const x = xIn!;
  if (x.rank !== 4) unsupported(ctx, `X of shape [${x.shape.join(',')}] (expected [N, C, H, W])`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const rois = await hostFloats(roisIn!);
  const batch = await hostInts(batchIn!);
  const r = batch.length;
  if (rois.length !== 4 * r) unsupported(ctx, `rois of shape [${roisIn!.shape.join(',')}] for ${r} batch indices`);
  const bad = batch.find((b) => b < 0 || b >= n);
  if (bad !== undefined) unsupported(ctx, `batch index ${bad} for X with ${n} images`);
  const ph = ctx.int('output_height', 1);
  const pw = ctx.int('output_width', 1);
  const ratio = ctx.int('sampling_ratio', 0);
  const scale = ctx.float('spatial_scale', 1);
  const mode = ctx.string('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') unsupported(ctx, `mode '${mode}'`);
  const halfPixel = ctx.string('coordinate_transformation_mode', ctx.opset >= 16 ? 'half_pixel' : 'output_half_pixel') === 'half_pixel';
  const offset = halfPixel ? 0.5 : 0;
  // per roi: the sampling grid, then per bin and sample four (row, weight) taps
  // region geometry in float32 like onnxruntime: the adaptive grid is a ceil, which float64 can tip
  const f = Math.fround;
  const grids = Array.from({ length: r }, (_, i) => {
    const [x1, y1, x2, y2] = rois.slice(4 * i, 4 * i + 4).map((v) => f(f(v * f(scale)) - offset)) as [number, number, number, number];
    const rw = halfPixel ? f(x2 - x1) : Math.max(f(x2 - x1), 1);
    const rh = halfPixel ? f(y2 - y1) : Math.max(f(y2 - y1), 1);
    const [bh, bw] = [f(rh / ph), f(rw / pw)];
    const gh = ratio > 0 ? ratio : Math.ceil(bh);
    const gw = ratio > 0 ? ratio : Math.ceil(bw);
    return { x1, y1, bh, bw, gh, gw };
  });
  const samples = Math.max(1, ...grids.map((g) => g.gh * g.gw));
  const p = ph * pw;
  const idx = new Int32Array(r * p * samples * 4);
  const wt = new Float32Array(r * p * samples * 4);
  const inv = new Float32Array(r);
  grids.forEach((g, i) => {
    const base = batch[i]! * h * w;
    const count = g.gh * g.gw;
    inv[i] = 1 / Math.max(count, 1);
    for (let b = 0; b < p; b++) {
      const [py, px] = [Math.floor(b / pw), b % pw];
      for (let s = 0; s < samples; s++) {
        const o = ((i * p + b) * samples + s) * 4;
        // max mode repeats the first sample in the padding (no effect on a max); avg gives it weight 0
        const real = s < count ? s : mode === 'max' && count > 0 ? 0 : -1;
        if (real < 0) continue;
        let y = g.y1 + py * g.bh + ((Math.floor(real / g.gw) + 0.5) * g.bh) / g.gh;
        let xx = g.x1 + px * g.bw + (((real % g.gw) + 0.5) * g.bw) / g.gw;
        if (y < -1 || y > h || xx < -1 || xx > w) continue;
        y = Math.max(y, 0);
        xx = Math.max(xx, 0);
        let [yl, xl] = [Math.trunc(y), Math.trunc(xx)];
        let [yh, xh] = [yl + 1, xl + 1];
        if (yl >= h - 1) [yl, yh, y] = [h - 1, h - 1, h - 1];
        if (xl >= w - 1) [xl, xh, xx] = [w - 1, w - 1, w - 1];
        const [ly, lx] = [y - yl, xx - xl];
        const taps: [number, number][] = [[yl * w + xl, (1 - ly) * (1 - lx)], [yl * w + xh, (1 - ly) * lx], [yh * w + xl, ly * (1 - lx)], [yh * w + xh, ly * lx]];
        taps.forEach(([pos, weight], k) => {
          idx[o + k] = base + pos;
          wt[o + k] = weight;
        });
      }
    }
  });
  const opts = { backend: x.backend };
  const rows = T.reshape(T.transpose(x, [0, 2, 3, 1]), [n * h * w, c]);
  const taps = T.reshape(T.gather(rows, T.tensor(idx, [idx.length], 'int32', opts), 0), [r, p, samples, 4, c]);
  const weights = T.tensor(wt, [r, p, samples, 4, 1], 'float32', opts);
  const weighted = T.mul(taps, x.dtype === 'float32' ? weights : T.cast(weights, x.dtype));
  const pooled = mode === 'avg'
    ? T.mul(T.sum(weighted, [2, 3]), T.cast(T.tensor(inv, [r, 1, 1], 'float32', opts), x.dtype))
    : T.max(T.max(weighted, [3]), [2]);
  return [T.reshape(T.transpose(pooled, [0, 2, 1]), [r, c, ph, pw])];
});
