import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { hostFloats, hostInts, unsupported } from './util.js';

/**
 * ONNX Resize (opset 10–19) and Upsample, separable: each resized axis (innermost first) is a
 * weighted sum of gathers along that axis, the taps and weights computed on the host from the
 * ONNX coordinate transformation. Modes nearest (4 nearest_modes), linear and cubic
 * (cubic_coeff_a, exclude_outside); tf_crop_and_resize with extrapolation_value; axes and
 * keep_aspect_ratio_policy (opset 18); antialias (opset 18) for linear and cubic.
 */
interface Taps {
  /** taps[k][o]: input index of tap k for output o. */
  idx: number[][];
  /** weights[k][o]; undefined for nearest (one tap of weight 1). */
  w?: number[][];
  /** Extrapolated outputs (tf_crop_and_resize outside the input). */
  outside?: boolean[];
}

interface AxisPlan {
  mode: string;
  coord: string;
  nearestMode: string;
  cubicA: number;
  excludeOutside: boolean;
  /** Stretch the linear/cubic filter by 1/scale when downsampling (ONNX antialias). */
  antialias: boolean;
}

/** The input coordinate of output index x (onnx's reference: Ow = s * L is the float output width). */
function originalCoord(x: number, L: number, O: number, s: number, coord: string, roi: [number, number]): number {
  const Ow = s * L;
  switch (coord) {
    case 'half_pixel':
      return (x + 0.5) / s - 0.5;
    case 'half_pixel_symmetric':
      return (L / 2) * (1 - O / Ow) + (x + 0.5) / s - 0.5;
    case 'pytorch_half_pixel':
      return Ow === 1 ? -0.5 : (x + 0.5) / s - 0.5;
    case 'align_corners':
      return Ow === 1 ? 0 : (x * (L - 1)) / (Ow - 1);
    case 'asymmetric':
      return x / s;
    case 'tf_crop_and_resize':
      return (Ow === 1 ? ((roi[1] - roi[0]) * (L - 1)) / 2 : (x * (roi[1] - roi[0]) * (L - 1)) / (Ow - 1)) + roi[0] * (L - 1);
    default:
      throw new Error(`unknown coordinate_transformation_mode '${coord}'`);
  }
}

/** The cubic convolution kernel (coefficient A) at distance d. */
function cubicKernel(d: number, A: number): number {
  const a = Math.abs(d);
  if (a <= 1) return ((A + 2) * a - (A + 3)) * a * a + 1;
  if (a < 2) return ((A * a - 5 * A) * a + 8 * A) * a - 4 * A;
  return 0;
}

/** Weights of the 4 cubic taps floor(x)-1 .. floor(x)+2 for the fraction t = x - floor(x). */
function cubicCoeffs(t: number, A: number): number[] {
  return [cubicKernel(t + 1, A), cubicKernel(t, A), cubicKernel(1 - t, A), cubicKernel(2 - t, A)];
}

/**
 * Antialiased linear/cubic taps of one output at input coordinate x: the filter (triangle of
 * radius 1, or the cubic kernel of radius 2) stretched by 1/min(s, 1), sampled at the inputs
 * around x (edge-clamped) and normalized to sum 1; with exclude_outside, taps outside the
 * input get weight 0 and the rest are renormalized. As the ONNX reference, an integral x is
 * treated as ratio 1 from the input on its left.
 */
function antialiasTaps(x: number, L: number, s: number, p: AxisPlan): { idx: number[]; w: number[] } {
  const scale = Math.min(s, 1);
  const radius = p.mode === 'linear' ? 1 : 2;
  const kernel = p.mode === 'linear' ? (d: number): number => Math.max(0, 1 - Math.abs(d)) : (d: number): number => cubicKernel(d, p.cubicA);
  let f = Math.floor(x);
  let ratio = x - f;
  if (ratio === 0) {
    f -= 1;
    ratio = 1;
  }
  const start = Math.floor(-radius / scale) + 1;
  const idx: number[] = [];
  const w: number[] = [];
  for (let i = start; i < 2 - start; i++) {
    idx.push(f + i);
    w.push(kernel(scale * (i - ratio)));
  }
  const total = w.reduce((a, b) => a + b, 0);
  for (let k = 0; k < w.length; k++) w[k] = w[k]! / total;
  if (p.excludeOutside) {
    for (let k = 0; k < w.length; k++) if (idx[k]! < 0 || idx[k]! >= L) w[k] = 0;
    const kept = w.reduce((a, b) => a + b, 0);
    for (let k = 0; k < w.length; k++) w[k] = w[k]! / kept;
  }
  return { idx: idx.map((i) => Math.min(Math.max(i, 0), L - 1)), w };
}

function axisTaps(L: number, O: number, s: number, p: AxisPlan, roi: [number, number]): Taps {
  const clampI = (i: number): number => Math.min(Math.max(i, 0), L - 1);
  const aa = p.antialias && p.mode !== 'nearest' && s < 1;
  const K = aa ? 2 - 2 * (Math.floor(-(p.mode === 'linear' ? 1 : 2) / s) + 1) : p.mode === 'nearest' ? 1 : p.mode === 'linear' ? 2 : 4;
  const idx = Array.from({ length: K }, () => new Array<number>(O).fill(0));
  const w = Array.from({ length: K }, () => new Array<number>(O).fill(0));
  const outside = new Array<boolean>(O).fill(false);
  for (let o = 0; o < O; o++) {
    const x = originalCoord(o, L, O, s, p.coord, roi);
    if (p.coord === 'tf_crop_and_resize' && (x < 0 || x > L - 1)) {
      outside[o] = true;
      continue;
    }
    const f = Math.floor(x);
    const t = x - f;
    if (aa) {
      const taps = antialiasTaps(x, L, s, p);
      for (let k = 0; k < K; k++) {
        idx[k]![o] = taps.idx[k]!;
        w[k]![o] = taps.w[k]!;
      }
    } else if (p.mode === 'nearest') {
      let n: number;
      switch (p.nearestMode) {
        case 'round_prefer_ceil':
          n = t < 0.5 ? f : f + 1;
          break;
        case 'floor':
          n = f;
          break;
        case 'ceil':
          n = Math.ceil(x);
          break;
        default:
          n = t <= 0.5 ? f : f + 1;
      }
      idx[0]![o] = clampI(n);
      w[0]![o] = 1;
    } else if (p.mode === 'linear') {
      idx[0]![o] = clampI(f);
      idx[1]![o] = clampI(f + 1);
      w[0]![o] = 1 - t;
      w[1]![o] = t;
    } else {
      const c = cubicCoeffs(t, p.cubicA);
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const i = f - 1 + k;
        const inside = i >= 0 && i < L;
        const wk = p.excludeOutside && !inside ? 0 : c[k]!;
        idx[k]![o] = clampI(i);
        w[k]![o] = wk;
        total += wk;
      }
      if (p.excludeOutside) for (let k = 0; k < 4; k++) w[k]![o] = w[k]![o]! / total;
    }
  }
  return { idx, ...(p.mode === 'nearest' ? {} : { w }), ...(outside.some((b) => b) ? { outside } : {}) };
}

function resizeAxis(x: Tensor, axis: number, taps: Taps, extrapolation: number): Tensor {
  const O = taps.idx[0]!.length;
  const bshape = x.shape.map((d, i) => (i === axis ? O : 1));
  const opts = { backend: x.backend };
  let y: Tensor | undefined;
  taps.idx.forEach((ix, k) => {
    const g = T.gather(x, T.tensor(ix, [O], 'int32', opts), axis);
    const term = taps.w ? T.mul(g, T.tensor(taps.w[k]!, bshape, x.dtype, opts)) : g;
    y = y ? T.add(y, term) : term;
  });
  if (taps.outside) {
    const inside = T.tensor(taps.outside.map((b) => (b ? 0 : 1)), bshape, x.dtype, opts);
    const extra = T.tensor(taps.outside.map((b) => (b ? extrapolation : 0)), bshape, x.dtype, opts);
    y = T.add(T.mul(y!, inside), extra);
  }
  return y!;
}

/** Round half to even (numpy.round), used for keep_aspect_ratio_policy output sizes. */
const roundEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

async function resize(x: Tensor, roiT: Tensor | undefined, scalesT: Tensor | undefined, sizesT: Tensor | undefined, ctx: OpContext): Promise<Tensor> {
  const r = x.rank;
  const legacy = ctx.opset < 11 || ctx.node.opType === 'Upsample';
  const mode = ctx.string('mode', 'nearest');
  const plan: AxisPlan = {
    mode: mode === 'bilinear' || mode === 'trilinear' ? 'linear' : mode,
    coord: legacy ? 'asymmetric' : ctx.string('coordinate_transformation_mode', 'half_pixel'),
    nearestMode: legacy ? 'floor' : ctx.string('nearest_mode', 'round_prefer_floor'),
    cubicA: ctx.float('cubic_coeff_a', -0.75),
    excludeOutside: ctx.int('exclude_outside', 0) === 1,
    antialias: ctx.int('antialias', 0) === 1,
  };
  const axes = (ctx.ints('axes') ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const scales = new Array<number>(r).fill(1);
  const sizes = [...x.shape];
  const scaleVals = ctx.node.opType === 'Upsample' && ctx.opset < 9 ? ctx.floats('scales') : scalesT && scalesT.size > 0 ? await hostFloats(scalesT) : undefined;
  if (scaleVals) {
    axes.forEach((a, i) => {
      scales[a] = scaleVals[i]!;
      sizes[a] = Math.floor(x.shape[a]! * scaleVals[i]!);
    });
  } else if (sizesT && sizesT.size > 0) {
    const want = await hostInts(sizesT);
    const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((a, i) => {
        sizes[a] = want[i]!;
        scales[a] = want[i]! / x.shape[a]!;
      });
    } else {
      const ratios = axes.map((a, i) => want[i]! / x.shape[a]!);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const a of axes) {
        scales[a] = s;
        sizes[a] = roundEven(s * x.shape[a]!);
      }
    }
  } else {
    unsupported(ctx, 'Resize without scales or sizes');
  }
  const roiVals = roiT && roiT.size > 0 && plan.coord === 'tf_crop_and_resize' ? await hostFloats(roiT) : undefined;
  const roiOf = (a: number): [number, number] => {
    if (!roiVals) return [0, 1];
    const k = roiVals.length === 2 * r ? a : axes.indexOf(a);
    const n = roiVals.length / 2;
    return [roiVals[k]!, roiVals[k + n]!];
  };
  if (plan.mode !== 'nearest' && !T.isFloat(x.dtype)) unsupported(ctx, `${plan.mode} resize of ${x.dtype}`);
  let y = x;
  for (let a = r - 1; a >= 0; a--) {
    const L = x.shape[a]!;
    const O = sizes[a]!;
    if (!axes.includes(a) || (O === L && scales[a] === 1 && plan.coord !== 'tf_crop_and_resize')) continue;
    y = resizeAxis(y, a, axisTaps(L, O, scales[a]!, plan, roiOf(a)), ctx.float('extrapolation_value', 0));
  }
  return y;
}

registerOp('Resize', async ([x, a, b, c], ctx) => [ctx.opset < 11 ? await resize(x!, undefined, a, undefined, ctx) : await resize(x!, a, b, c, ctx)]);
registerOp('Upsample', async ([x, scales], ctx) => [await resize(x!, undefined, scales, undefined, ctx)]);
