import { type OptionSpec, type PassContext, defineOptions } from '@whittle/graph';

const common = {
  rankSelection: {
    type: 'string',
    enum: ['energy', 'error', 'budget', 'fixed'] as const,
    default: 'energy',
    description:
      "how ranks are chosen: 'energy' (keep the smallest rank whose squared singular values reach `energy` of the total), " +
      "'error' (per-layer relative Frobenius error <= `maxError`), 'budget' (whole model at <= `targetRatio` of its parameters, " +
      "ranks allocated greedily by error reduction per parameter), 'fixed' (`rank`)",
  },
  energy: { type: 'number', min: 0, max: 1, default: 0.9, description: "energy mode: fraction of Σσ² to keep per layer (Tucker-2: per mode)" },
  maxError: { type: 'number', min: 0, max: 1, default: 0.1, description: 'error mode: relative Frobenius error bound per layer (Tucker-2: HOSVD bound)' },
  targetRatio: {
    type: 'number', min: 0, max: 1, default: 0.5,
    description: 'budget mode: parameter count of the whole model after / before (all initializers count; biases and untouched layers are fixed)',
  },
  rank: { type: 'number', integer: true, min: 1, description: 'fixed mode: the rank (Tucker-2: both ranks, each capped at its channel count)' },
  svd: {
    type: 'string', enum: ['exact', 'randomized', 'auto'] as const, default: 'auto',
    description: "SVD algorithm: 'exact' (one-sided Jacobi), 'randomized' (Halko et al. range finder), 'auto' (randomized when min(rows, cols) >= randomizedMinDim)",
  },
  randomizedMinDim: { type: 'number', integer: true, min: 1, default: 512, description: "'auto' switches to the randomized SVD from this min(rows, cols)" },
  oversampling: { type: 'number', integer: true, min: 0, default: 10, description: 'randomized SVD: extra sketch columns' },
  powerIterations: { type: 'number', integer: true, min: 0, default: 2, description: 'randomized SVD: power iterations' },
  include: { type: 'string[]', default: [], description: 'only these layers (node names, output names or weight names); empty = all' },
  exclude: { type: 'string[]', default: [], description: 'never these layers (node names, output names or weight names)' },
  minParams: { type: 'number', integer: true, min: 0, default: 0, description: 'leave layers with fewer weight parameters alone' },
  allowNoSavings: {
    type: 'boolean', default: false,
    description: 'factorize even when the factors are not smaller than the dense weight (normally such layers are left alone and reported)',
  },
  fineTuneEpochs: {
    type: 'number', integer: true, min: 0, default: 0,
    description: 'after factorizing, fine-tune the whole model (factors included) for this many epochs on ctx.training (labeled; Adam + cross-entropy); 0 = no fine-tuning',
  },
  lr: { type: 'number', min: 0, default: 5e-4, description: 'fine-tuning: Adam learning rate' },
  lrDecay: { type: 'number', min: 0, max: 1, default: 0.7, description: 'fine-tuning: learning-rate factor after every epoch' },
  batchSize: { type: 'number', integer: true, min: 1, default: 64, description: 'fine-tuning: batch size' },
  trainable: {
    type: 'string', enum: ['all', 'factors'] as const, default: 'all',
    description: "fine-tuning: train 'all' float weights or only the low-rank 'factors'",
  },
} satisfies Record<string, OptionSpec>;

const activation = {
  activationAware: {
    type: 'string', enum: ['none', 'whiten', 'asvd'] as const, default: 'none',
    description:
      "MatMul/Gemm only: 'whiten' = SVD-LLM (SVD of Lᵀ·W with XᵀX + damping = L·Lᵀ from calibration inputs), " +
      "'asvd' = ASVD diagonal scaling by mean|x|^asvdAlpha; needs ctx.calibration",
  },
  damping: { type: 'number', min: 0, default: 0.01, description: "'whiten': relative diagonal damping of XᵀX (times mean of its diagonal)" },
  asvdAlpha: { type: 'number', min: 0, default: 0.5, description: "'asvd': exponent of the activation scaling" },
  calibrationBatches: { type: 'number', integer: true, min: 1, default: 16, description: 'calibration batches used for activation statistics' },
} satisfies Record<string, OptionSpec>;

const conv = {
  convMethod: {
    type: 'string', enum: ['tucker2', 'spatial-svd'] as const, default: 'tucker2',
    description: "Conv factorization: 'tucker2' (pointwise → core with the original kernel → pointwise, HOSVD; 1-D, 2-D, 3-D) or 'spatial-svd' (2-D: kx1 then 1xk, Jaderberg scheme 2; 1-D: k-conv then pointwise)",
  },
  alsIterations: { type: 'number', integer: true, min: 0, default: 0, description: 'tucker2: HOOI/ALS refinement sweeps after the HOSVD' },
} satisfies Record<string, OptionSpec>;

/** Options of 'lowrank-linear' (MatMul/Gemm). */
export const linearOptions = defineOptions({ ...common, ...activation });
/** Options of 'lowrank-conv' (Conv). */
export const convOptions = defineOptions({ ...common, ...conv });
/** Options of 'lowrank' (MatMul/Gemm and Conv under one budget). */
export const allOptions = defineOptions({ ...common, ...activation, ...conv });

/** The parsed options of any of the low-rank passes (fields of other passes take defaults). */
export type LowrankOptions = ReturnType<typeof allOptions.parse>;

/** The context with the options of the narrower passes completed by the defaults of the others. */
export function withDefaults<O extends Partial<LowrankOptions>>(ctx: PassContext<O>): PassContext<LowrankOptions> {
  return { ...ctx, options: { ...allOptions.parse({}, 'lowrank'), ...ctx.options } as LowrankOptions };
}
