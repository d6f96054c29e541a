/**
 * Activation range calibration: running statistics (min/max + a histogram whose range doubles as
 * needed) collected from calibration batches (onnxruntime or Whittle's interpreter) or from plain arrays,
 * and the calibrators MinMax, Percentile, Entropy (KL, TensorRT-style) and MSE.
 */
import { type ActivationRange, type ActivationRuntime, type CalibrationRuntimeChoice, type CalibrationSource, type Logger, type Model, type StatisticPoint, activationRange, collectActivations } from '@whittle/graph';
import { ArgumentError, type BackendName } from '@whittle/tensor';
import { groupParams, quantizeValue, dequantizeValue } from './quant_math.js';

/** Calibration methods. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

const BINS = 2048;

/** Running statistics of one tensor. */
export class TensorStats {
  min = Infinity;
  max = -Infinity;
  count = 0;
  /** Histogram over [-radius, radius] in `BINS` (2048) bins (radius doubles as needed). */
  hist = new Float64Array(BINS);
  radius = 0;
  /** Whether {@link add} fills the histogram (false: min/max only, enough for 'minmax'). */
  readonly histogram: boolean;

  constructor(opts: { histogram?: boolean } = {}) {
    this.histogram = opts.histogram ?? true;
  }

  add(values: ArrayLike<number>): void {
    if (!values.length) return;
    // monomorphic loops over a Float32Array (activations always are; plain arrays are copied once)
    const v = values instanceof Float32Array ? values : Float32Array.from(values);
    const r = activationRange(v);
    this.addRange(r);
    if (!this.histogram) return;
    const lo = r.min;
    const hi = r.max;
    const need = Math.max(Math.abs(lo), Math.abs(hi), 1e-12);
    if (this.radius === 0) this.radius = need;
    while (need > this.radius) this.grow();
    histogram(v, this.hist, this.radius);
  }

  /**
   * Add a batch's range alone (min/max statistics: a histogram cannot be filled from it). The
   * same as {@link add} of the values the range was computed from, when there is no histogram.
   */
  addRange(r: ActivationRange): void {
    if (!r.count) return;
    this.min = Math.min(this.min, r.min);
    this.max = Math.max(this.max, r.max);
    this.count += r.count;
  }

  /** Double the radius, merging bins pairwise. */
  private grow(): void {
    const next = new Float64Array(BINS);
    for (let i = 0; i < BINS; i++) {
      const j = Math.floor((i + BINS / 2) / 2);
      next[j] = next[j]! + this.hist[i]!;
    }
    this.hist = next;
    this.radius *= 2;
  }

  /** Center of signed bin i. */
  center(i: number): number {
    return -this.radius + ((i + 0.5) * 2 * this.radius) / BINS;
  }
}

/** Add `v` to the BINS-bin histogram over [-radius, radius] (the bin of x: floor((x + radius) / w)). */
function histogram(v: Float32Array, h: Float64Array, radius: number): void {
  const w = (2 * radius) / BINS;
  const last = BINS - 1;
  for (let i = 0; i < v.length; i++) {
    // t | 0 is Math.floor for 0 < t < 2^31 (t <= 0 clamps to bin 0 as before)
    const t = (v[i]! + radius) / w;
    let b = t > 0 ? t | 0 : 0;
    if (b > last) b = last;
    h[b] = h[b]! + 1;
  }
}

/** Options of {@link computeRange}. */
export interface RangeOptions {
  /** Percentile for 'percentile' (default 99.999). */
  percentile?: number;
  /** Levels of the target grid (default 256: uint8). */
  levels?: number;
}

/** The clipping range [lo, hi] a calibrator chooses from a tensor's statistics. */
export function computeRange(s: TensorStats, method: CalibrationMethod, opts: RangeOptions = {}): [number, number] {
  if (s.count === 0) return [0, 0];
  if (method === 'minmax') return [s.min, s.max];
  if (!s.histogram) throw new ArgumentError(`computeRange: '${method}' needs a histogram, and these statistics were collected without one`);
  if (method === 'percentile') {
    const p = (opts.percentile ?? 99.999) / 100;
    const total = s.count;
    let acc = 0;
    let lo = s.min;
    let hi = s.max;
    let loSet = false;
    for (let i = 0; i < BINS; i++) {
      acc += s.hist[i]!;
      if (!loSet && acc >= (1 - p) * total) {
        lo = Math.max(s.min, s.center(i) - s.radius / BINS);
        loSet = true;
      }
      if (acc >= p * total) {
        hi = Math.min(s.max, s.center(i) + s.radius / BINS);
        break;
      }
    }
    return [lo, hi];
  }
  const nonneg = s.min >= 0;
  // absolute-value histogram over [0, radius] in BINS/2 bins
  const half = BINS / 2;
  const abs = new Float64Array(half);
  for (let j = 0; j < half; j++) abs[j] = s.hist[half + j]! + s.hist[half - 1 - j]!;
  const width = s.radius / half;
  const clip = (t: number): [number, number] => (nonneg ? [0, Math.min(t, s.max)] : [Math.max(-t, s.min), Math.min(t, s.max)]);
  if (method === 'entropy') {
    const levels = nonneg ? 256 : 128;
    let best = Infinity;
    let bestI = half;
    for (let i = Math.min(levels, half); i <= half; i++) {
      const kl = klDivergence(abs, i, levels);
      if (kl < best) {
        best = kl;
        bestI = i;
      }
    }
    return clip(bestI * width);
  }
  // mse: grid search over the clipping threshold
  const levels = opts.levels ?? 256;
  let best = Infinity;
  let bestT = s.radius;
  const amax = Math.max(Math.abs(s.min), Math.abs(s.max));
  for (let k = 1; k <= 100; k++) {
    const t = (amax * k) / 100;
    const [lo, hi] = clip(t);
    const p = groupParams(lo, hi, { bits: Math.log2(levels), symmetric: false });
    let err = 0;
    for (let i = 0; i < BINS; i++) {
      const c = s.hist[i]!;
      if (!c) continue;
      const x = s.center(i);
      const d = x - dequantizeValue(quantizeValue(x, p, Math.log2(levels)), p);
      err += c * d * d;
    }
    if (err < best) {
      best = err;
      bestT = t;
    }
  }
  return clip(bestT);
}

/** KL(P || Q) of the first i bins (outliers folded into bin i-1) quantized to `levels` bins. */
function klDivergence(abs: Float64Array, i: number, levels: number): number {
  const P = new Float64Array(i);
  for (let j = 0; j < i; j++) P[j] = abs[j]!;
  let outliers = 0;
  for (let j = i; j < abs.length; j++) outliers += abs[j]!;
  P[i - 1] = P[i - 1]! + outliers;
  const Q = new Float64Array(i);
  const per = i / levels;
  for (let l = 0; l < levels; l++) {
    const a = Math.floor(l * per);
    const b = l === levels - 1 ? i : Math.floor((l + 1) * per);
    let sum = 0;
    let nz = 0;
    for (let j = a; j < b; j++) {
      sum += abs[j]!;
      if (abs[j]! > 0) nz++;
    }
    if (nz) for (let j = a; j < b; j++) if (abs[j]! > 0) Q[j] = sum / nz;
  }
  let ps = 0;
  let qs = 0;
  for (let j = 0; j < i; j++) {
    ps += P[j]!;
    qs += Q[j]!;
  }
  if (!ps || !qs) return Infinity;
  let kl = 0;
  for (let j = 0; j < i; j++) {
    const p = P[j]! / ps;
    if (p <= 0) continue;
    const q = Q[j]! / qs;
    kl += p * Math.log(p / (q > 0 ? q : 1e-10));
  }
  return kl;
}

/** Options of {@link collectStats}. */
export interface CollectStatsOptions {
  /** Interpreter backend (default 'cpu'). */
  backend?: BackendName;
  signal?: AbortSignal;
  onBatch?: (batch: number) => void;
  maxBatches?: number;
  /** Runtime computing the activations (`ctx.activationRuntime`, e.g. onnxruntime in Node). */
  activationRuntime?: ActivationRuntime | undefined;
  /** 'auto' (default): `activationRuntime` when given, else the interpreter. */
  calibrationRuntime?: CalibrationRuntimeChoice | undefined;
  /** Pass name for errors (default 'collectStats'). */
  pass?: string;
  /** Fill histograms (default true; 'minmax' needs none). */
  histogram?: boolean;
  /** Told when 'auto' falls back to the interpreter. */
  logger?: Logger;
}

/** A statistic point accumulating {@link TensorStats} of `names` (for {@link collectActivations}). */
export function statsPoint(names: readonly string[], opts: { histogram?: boolean } = {}): StatisticPoint & { stats: Map<string, TensorStats> } {
  const stats = new Map(names.map((n) => [n, new TensorStats(opts)]));
  const point: StatisticPoint & { stats: Map<string, TensorStats> } = {
    names,
    stats,
    consume(values) {
      for (const [n, v] of values) stats.get(n)!.add(v.data);
    },
  };
  // min/max alone: ask for ranges, which onnxruntime reduces in place instead of copying every value out
  if (opts.histogram === false) point.consumeRanges = (ranges) => { for (const [n, r] of ranges) stats.get(n)!.addRange(r); };
  return point;
}

/**
 * Statistics of named tensors from calibration feeds, computed by the given activation runtime
 * (onnxruntime in Node) or Whittle's interpreter. Throws `CalibrationDataError` without batches.
 */
export async function collectStats(model: Model, names: readonly string[], calibration: CalibrationSource | undefined, opts: CollectStatsOptions = {}): Promise<Map<string, TensorStats>> {
  const point = statsPoint(names, { histogram: opts.histogram ?? true });
  await collectActivations(model, [point], calibration, {
    pass: opts.pass ?? 'collectStats',
    activationRuntime: opts.activationRuntime,
    runtime: opts.calibrationRuntime,
    backend: opts.backend ?? 'cpu',
    signal: opts.signal,
    maxBatches: opts.maxBatches,
    onBatch: opts.onBatch,
    logger: opts.logger,
  });
  return point.stats;
}

/**
 * The pure path: ranges from arrays of observed values per tensor name (no model, no
 * interpreter). Returns name → [lo, hi].
 */
export function rangesFromArrays(arrays: Record<string, ArrayLike<number> | readonly ArrayLike<number>[]>, method: CalibrationMethod = 'minmax', opts: RangeOptions = {}): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [name, v] of Object.entries(arrays)) {
    const s = new TensorStats();
    const list = Array.isArray(v) && typeof v[0] !== 'number' ? (v as readonly ArrayLike<number>[]) : [v as ArrayLike<number>];
    for (const a of list) s.add(a);
    out[name] = computeRange(s, method, opts);
  }
  return out;
}
