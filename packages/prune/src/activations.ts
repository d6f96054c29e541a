import { type ActivationRuntime, type CalibrationRuntimeChoice, type CalibrationSource, type Model, type Node, type StatisticPoint, CalibrationDataError, collectActivations, getInt, getInts, getString } from '@whittle/graph';
import type { BackendName } from '@whittle/tensor';
import type { PrunableWeight } from './layers.js';

/**
 * Squared L2 norms of each weight column's input over calibration data: for Gemm/MatMul the
 * input feature `c` summed over all rows (batch and leading dims), for Conv the im2col column
 * (input channel, kernel offset) summed over batch and output positions. Grouped convs keep one
 * vector per group (`groups * cols` values; row `r` uses group `floor(r / (rows / groups))`).
 */
export interface InputNorms {
  /** Squared norms, `groups * cols` values. */
  sq: Float64Array;
  groups: number;
  /** Samples (rows / positions) accumulated. */
  count: number;
}

/** Options of {@link collectInputNorms}. */
export interface CollectOptions {
  backend?: BackendName;
  signal?: AbortSignal;
  /** Stop after this many calibration batches (default: all). */
  maxBatches?: number;
  onBatch?: (batch: number) => void;
  /** Runtime computing the activations (`ctx.activationRuntime`, e.g. onnxruntime in Node). */
  activationRuntime?: ActivationRuntime | undefined;
  /** 'auto' (default): `activationRuntime` when given, else the interpreter. */
  calibrationRuntime?: CalibrationRuntimeChoice | undefined;
}

/** A statistic point accumulating the Wanda input norms of `weights` into `out`. */
export function inputNormsPoint(model: Model, weights: readonly PrunableWeight[], out: Map<string, InputNorms>): StatisticPoint {
  const nodes = new Map<string, Node>();
  model.graph.nodes.forEach((n) => {
    if (n.inputs[1]) nodes.set(n.inputs[1], n);
  });
  for (const w of weights) {
    const node = nodes.get(w.weight)!;
    const groups = w.opType === 'Conv' ? getInt(node, 'group', 1) : 1;
    out.set(w.weight, { sq: new Float64Array(groups * w.cols), groups, count: 0 });
  }
  return {
    names: [...new Set(weights.map((w) => w.input))],
    consume(values) {
      for (const w of weights) {
        const x = values.get(w.input);
        if (!x) continue;
        const acc = out.get(w.weight)!;
        if (w.opType === 'Conv') accumulateConv(acc, x.data, x.shape, w, nodes.get(w.weight)!);
        else accumulateDense(acc, x.data, w.cols);
      }
    },
  };
}

/**
 * Run the model on every calibration batch (onnxruntime when the context injects it, else the
 * interpreter) and accumulate the input norms Wanda needs for each prunable weight. Throws when no
 * calibration data is given.
 */
export async function collectInputNorms(model: Model, weights: readonly PrunableWeight[], calibration: CalibrationSource | undefined, opts: CollectOptions = {}): Promise<Map<string, InputNorms>> {
  if (!calibration) throw new CalibrationDataError('wanda', 'wanda: scores need calibration data (ctx.calibration; --data on the command line): none was given');
  const out = new Map<string, InputNorms>();
  await collectActivations(model, [inputNormsPoint(model, weights, out)], calibration, {
    pass: 'wanda',
    activationRuntime: opts.activationRuntime,
    runtime: opts.calibrationRuntime,
    backend: opts.backend,
    signal: opts.signal,
    maxBatches: opts.maxBatches,
    onBatch: opts.onBatch ? (b) => opts.onBatch!(b - 1) : undefined,
  });
  return out;
}

function accumulateDense(acc: InputNorms, x: Float32Array, cols: number): void {
  const rows = x.length / cols;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = x[o + c]!;
      acc.sq[c]! += v * v;
    }
  }
  acc.count += rows;
}

function convPads(node: Node, inHW: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[]): number[] {
  const autoPad = getString(node, 'auto_pad', 'NOTSET');
  const nd = k.length;
  if (autoPad === 'VALID') return new Array<number>(2 * nd).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const pads = new Array<number>(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const out = Math.ceil(inHW[i]! / s[i]!);
      const total = Math.max(0, (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - inHW[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + nd] = total - pads[i]!;
    }
    return pads;
  }
  return getInts(node, 'pads') ?? new Array<number>(2 * nd).fill(0);
}

/** im2col column norms of a 2-D conv input (1-D and 3-D convs use the same code with nd = 1/3). */
function accumulateConv(acc: InputNorms, x: Float32Array, xs: readonly number[], w: PrunableWeight, node: Node): void {
  const nd = xs.length - 2;
  const k = w.shape.slice(2);
  const s = getInts(node, 'strides') ?? new Array<number>(nd).fill(1);
  const d = getInts(node, 'dilations') ?? new Array<number>(nd).fill(1);
  const inHW = xs.slice(2);
  const pads = convPads(node, inHW, k, s, d);
  const outHW = inHW.map((n, i) => Math.floor((n + pads[i]! + pads[i + nd]! - ((k[i]! - 1) * d[i]! + 1)) / s[i]!) + 1);
  const N = xs[0]!;
  const C = xs[1]!;
  const cpg = w.shape[1]!;
  const kSize = k.reduce((a, b) => a * b, 1);
  const inSize = inHW.reduce((a, b) => a * b, 1);
  const outSize = outHW.reduce((a, b) => a * b, 1);
  // per (channel, kernel offset): sum over output positions of x^2 at the sampled input position
  const ko = new Array<number>(nd).fill(0);
  const oo = new Array<number>(nd).fill(0);
  for (let kk = 0; kk < kSize; kk++) {
    let t = kk;
    for (let i = nd - 1; i >= 0; i--) {
      ko[i] = t % k[i]!;
      t = Math.floor(t / k[i]!);
    }
    // input offsets sampled by this kernel offset (−1 when in the padding)
    const offsets = new Int32Array(outSize);
    for (let p = 0; p < outSize; p++) {
      let q = p;
      for (let i = nd - 1; i >= 0; i--) {
        oo[i] = q % outHW[i]!;
        q = Math.floor(q / outHW[i]!);
      }
      let off = 0;
      let inside = true;
      for (let i = 0; i < nd; i++) {
        const pos = oo[i]! * s[i]! - pads[i]! + ko[i]! * d[i]!;
        if (pos < 0 || pos >= inHW[i]!) inside = false;
        off = off * inHW[i]! + pos;
      }
      offsets[p] = inside ? off : -1;
    }
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / cpg);
      const col = (c % cpg) * kSize + kk;
      let sum = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * inSize;
        for (let p = 0; p < outSize; p++) {
          const o = offsets[p]!;
          if (o >= 0) {
            const v = x[base + o]!;
            sum += v * v;
          }
        }
      }
      if (g < acc.groups) acc.sq[g * w.cols + col]! += sum;
    }
  }
  acc.count += N * outSize;
}
