import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostFloats, hostInts, unsupported } from './util.js';

/**
 * ONNX NonMaxSuppression: per batch and class, boxes above `score_threshold` taken by falling
 * score (ties: lower index first) unless their IoU with a box already taken exceeds
 * `iou_threshold`, at most `max_output_boxes_per_class` each. Index work on the host, in float32
 * arithmetic as onnxruntime does; the `[selected, 3]` int64 result goes to the node's backend.
 */
const f = Math.fround;

/** [xmin, xmax, ymin, ymax] of box `i` (corners in either order, or center + size). */
function extent(b: Float32Array, i: number, centered: boolean): [number, number, number, number] {
  const [p, q, r, s] = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
  if (centered) {
    const hw = f(r / 2);
    const hh = f(s / 2);
    return [f(p - hw), f(p + hw), f(q - hh), f(q + hh)];
  }
  return [Math.min(q, s), Math.max(q, s), Math.min(p, r), Math.max(p, r)];
}

/** True when boxes i and j overlap with IoU above `threshold`. */
function suppresses(b: Float32Array, i: number, j: number, centered: boolean, threshold: number): boolean {
  const [ax0, ax1, ay0, ay1] = extent(b, i, centered);
  const [bx0, bx1, by0, by1] = extent(b, j, centered);
  const ix = f(Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const iy = f(Math.min(ay1, by1) - Math.max(ay0, by0));
  if (ix <= 0 || iy <= 0) return false;
  const inter = f(ix * iy);
  const areaA = f(f(ax1 - ax0) * f(ay1 - ay0));
  const areaB = f(f(bx1 - bx0) * f(by1 - by0));
  const union = f(f(areaA + areaB) - inter);
  if (areaA <= 0 || areaB <= 0 || union <= 0) return false;
  return f(inter / union) > threshold;
}

registerOp('NonMaxSuppression', async ([boxesT, scoresT, maxT, iouT, scoreT], ctx) => {
  const boxes = boxesT!;
  const scores = scoresT!;
  if (boxes.rank !== 3 || boxes.shape[2] !== 4 || scores.rank !== 3 || scores.shape[0] !== boxes.shape[0] || scores.shape[2] !== boxes.shape[1]) {
    unsupported(ctx, `boxes [${boxes.shape.join(',')}] with scores [${scores.shape.join(',')}] (expected [batches, boxes, 4] and [batches, classes, boxes])`);
  }
  const [batches, n] = [boxes.shape[0]!, boxes.shape[1]!];
  const classes = scores.shape[1]!;
  const maxOut = maxT && maxT.size > 0 ? Math.max(0, (await hostInts(maxT))[0]!) : 0;
  const iou = iouT && iouT.size > 0 ? f((await hostFloats(iouT))[0]!) : 0;
  const scoreMin = scoreT && scoreT.size > 0 ? f((await hostFloats(scoreT))[0]!) : undefined;
  const centered = ctx.int('center_point_box', 0) === 1;
  const b = Float32Array.from(await boxes.toFloat64());
  const s = Float32Array.from(await scores.toFloat64());
  const out: number[] = [];
  for (let bi = 0; bi < batches && maxOut > 0; bi++) {
    const bb = b.subarray(bi * n * 4, (bi + 1) * n * 4);
    for (let c = 0; c < classes; c++) {
      const sc = s.subarray((bi * classes + c) * n, (bi * classes + c + 1) * n);
      const order = [...Array(n).keys()].filter((i) => scoreMin === undefined || sc[i]! > scoreMin).sort((x, y) => sc[y]! - sc[x]! || x - y);
      const kept: number[] = [];
      for (const i of order) {
        if (kept.length >= maxOut) break;
        if (kept.some((k) => suppresses(bb, i, k, centered, iou))) continue;
        kept.push(i);
        out.push(bi, c, i);
      }
    }
  }
  return [T.tensor(out, [out.length / 3, 3], 'int64', { backend: ctx.backend })];
});
