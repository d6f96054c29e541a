import { CalibrationDataError, cloneModel, collectActivations, defineOptions, definePass, throwIfAborted } from '@whittle/graph';
import { ArgumentError, matmul, tensor } from '@whittle/tensor';
import { type PrunableWeight, cpuTensor, findPrunableWeights, floatValues, flatIndex, weightKey } from './layers.js';
import type { Masks } from './masks.js';
import { sparsityReport } from './report.js';
import { runSequential } from './sequential.js';
import { sparseGptPrune } from './sparsegpt.js';
import { calibratedOnly, maskReport } from './unstructured.js';
import { type PrunedOps, nothingToPrune } from './nothing.js';

/** SparseGPT prunes matrix products; Conv weights are prune-unstructured's and prune-nm's. */
const SPARSEGPT_OPS: PrunedOps = { ops: ['Gemm', 'MatMul'], others: 'prune-unstructured / prune-nm' };

const sparseGptOptions = defineOptions({
  sparsity: { type: 'number', min: 0, max: 1, default: 0.5, description: 'fraction of each layer\'s weights set to zero (unstructured; ignored with n:m)' },
  n: { type: 'number', integer: true, min: 0, default: 0, description: 'n:m sparsity: keep n of every m consecutive inputs (0: unstructured)' },
  m: { type: 'number', integer: true, min: 1, default: 4, description: 'group size along the input dimension for n:m' },
  blockSize: { type: 'number', integer: true, min: 1, default: 128, description: 'columns per mask-selection block and lazy update (the paper\'s Bs)' },
  damping: { type: 'number', min: 0, max: 1, default: 0.01, description: 'relative dampening added to diag(H)' },
  sequential: { type: 'boolean', default: true, description: 'each layer\'s Hessian from the inputs produced by the already-pruned earlier layers (the paper); false: all from the dense model' },
  include: { type: 'string[]', description: 'only these nodes / weight initializers (default: every Gemm/MatMul weight of the main graph)' },
  exclude: { type: 'string[]', default: [], description: 'nodes / weight initializers to leave dense' },
  calibrationBatches: { type: 'number', integer: true, min: 1, description: 'calibration batches used (default: all)' },
  recordMasks: { type: 'boolean', default: false, description: 'put each keep-mask (base64 bitmap) in the report details' },
});

/** Add XᵀX of x [rows, K] to `xtx` (the tensor engine's float32 matrix product, summed in float64); returns rows. */
function accumulateGram(xtx: Float64Array, x: Float32Array, K: number): number {
  const rows = x.length / K;
  const t = tensor(x, [rows, K], 'float32', { backend: 'cpu' });
  const p = matmul(t, t, { transA: true });
  const d = p.dataSync() as Float32Array;
  for (let i = 0; i < d.length; i++) xtx[i] = xtx[i]! + d[i]!;
  p.dispose();
  t.dispose();
  return rows;
}

/**
 * `prune-sparsegpt`: SparseGPT one-shot pruning of Gemm/MatMul weights (unstructured or n:m such as
 * 2:4) with the OBS update of the remaining weights, from calibration data. By default sequential:
 * each layer is pruned on the activations of the already-pruned layers before it. The calibration
 * forwards run in the context's activation runtime (onnxruntime in Node), else in Whittle's
 * interpreter. Conv weights are left to prune-unstructured / prune-nm.
 */
export const pruneSparseGpt = definePass({
  specificationVersion: 'v1',
  name: 'prune-sparsegpt',
  cli: { group: 'prune', command: 'sparsegpt' },
  description: 'SparseGPT: prune Gemm/MatMul weights (unstructured or n:m) and update the rest to compensate (OBS), from calibration data.',
  optionsSchema: sparseGptOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (o.n > o.m) throw new ArgumentError(`prune-sparsegpt: n (${o.n}) must not exceed m (${o.m})`);
    const warnings: string[] = [];
    const found = findPrunableWeights(model, { include: o.include, exclude: o.exclude, subgraphs: true }).filter((w) => w.opType !== 'Conv');
    const { weights: all, skipped } = calibratedOnly(found, true, warnings);
    const weights = all.filter((w) => {
      if (o.n === 0 || w.cols % o.m === 0) return true;
      warnings.push(`${w.node}: input dimension ${w.cols} is not a multiple of ${o.m}; left dense`);
      return false;
    });
    // nothing to prune is said as prune-unstructured says it, before asking for calibration data
    if (!weights.length) {
      const report = nothingToPrune('prune-sparsegpt', model, SPARSEGPT_OPS, warnings);
      if (skipped.length) report.details = { ...report.details, skipped };
      return { model: cloneModel(model), report };
    }
    if (!ctx.calibration) throw new CalibrationDataError('prune-sparsegpt', 'prune-sparsegpt: needs calibration data (ctx.calibration; --data on the command line): none was given');
    const before = await sparsityReport(model);
    const out = cloneModel(model);
    const masks: Masks = new Map();
    const layers: Record<string, unknown>[] = [];
    const prune = async (w: PrunableWeight, xtx: Float64Array, n: number): Promise<void> => {
      const K = w.cols;
      for (let i = 0; i < K; i++) for (let j = 0; j < i; j++) xtx[j * K + i] = xtx[i * K + j]!;
      const v = await floatValues(out.graph.initializers.get(w.weight)!);
      const canon = new Float64Array(w.rows * K);
      for (let r = 0; r < w.rows; r++) for (let c = 0; c < K; c++) canon[r * K + c] = v[flatIndex(w, r, c)]!;
      const res = sparseGptPrune(canon, w.rows, K, xtx, { sparsity: o.sparsity, n: o.n, m: o.m, blockSize: o.blockSize, damping: o.damping });
      const nv = new Float32Array(v.length);
      const mask = new Uint8Array(v.length);
      for (let r = 0; r < w.rows; r++) {
        for (let c = 0; c < K; c++) {
          nv[flatIndex(w, r, c)] = res.w[r * K + c]!;
          mask[flatIndex(w, r, c)] = res.mask[r * K + c]!;
        }
      }
      out.graph.initializers.set(w.weight, cpuTensor(nv, w.shape, w.dtype));
      masks.set(weightKey(w), mask);
      layers.push({ node: w.node, weight: weightKey(w), samples: n, obsLoss: res.loss });
      ctx.onProgress(masks.size / weights.length, w.node);
    };
    // forwards in the context's activation runtime (onnxruntime in Node), else the interpreter
    const runtime = { pass: 'prune-sparsegpt', activationRuntime: ctx.activationRuntime, runtime: ctx.calibrationRuntime, logger: ctx.logger };
    const opts = { ...runtime, ...(ctx.backend ? { backend: ctx.backend } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}), ...(o.calibrationBatches ? { maxBatches: o.calibrationBatches } : {}) };
    if (o.sequential) {
      // the runner stops before each input's first reader; the weights reading it are pruned there
      await runSequential(out, [...new Set(weights.map((w) => w.input))], ctx.calibration, async (name, values) => {
        for (const w of weights) {
          if (w.input !== name) continue;
          const xtx = new Float64Array(w.cols * w.cols);
          let n = 0;
          for (const t of values) n += accumulateGram(xtx, await floatValues(t), w.cols);
          await prune(w, xtx, n);
        }
      }, opts);
    } else {
      const grams = new Map(weights.map((w) => [w, { xtx: new Float64Array(w.cols * w.cols), n: 0 }]));
      await collectActivations(model, [{
        names: [...new Set(weights.map((w) => w.input))],
        consume(values) {
          for (const w of weights) {
            const g = grams.get(w)!;
            g.n += accumulateGram(g.xtx, values.get(w.input)!.data, w.cols);
          }
        },
      }], ctx.calibration, opts);
      for (const w of weights) await prune(w, grams.get(w)!.xtx, grams.get(w)!.n);
    }
    throwIfAborted(ctx.signal, 'prune-sparsegpt');
    const what = o.n > 0 ? `${o.n}:${o.m} SparseGPT` : `SparseGPT to ${(o.sparsity * 100).toFixed(1)} %`;
    const report = await maskReport('prune-sparsegpt', out, masks, weights.map((w) => ({ node: w.node, weight: weightKey(w) })), before, o.recordMasks, warnings, `${what}${o.sequential ? ' (sequential)' : ' (one-shot)'}`, SPARSEGPT_OPS);
    report.details = { ...report.details, sequential: o.sequential, obs: layers, ...(o.n > 0 ? { pattern: { n: o.n, m: o.m } } : {}), ...(skipped.length ? { skipped } : {}) };
    return { model: out, report };
  },
});
