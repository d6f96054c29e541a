import { definePass } from '@whittle/graph';
import { factorizeModel } from './factorize.js';
import { withDefaults, linearOptions } from './options.js';

/**
 * Pass 'lowrank-linear': factorize MatMul/Gemm weights W (K×N) into two thin layers
 * (K×r then r×N) by a truncated SVD, optionally activation-aware (SVD-LLM whitening or ASVD
 * scaling from calibration data). Gemm keeps transA/transB/alpha on the first factor and the
 * bias (C, beta) on the second. Layers that would not shrink are left alone and reported.
 */
export const lowrankLinearPass = definePass({
  specificationVersion: 'v1',
  name: 'lowrank-linear',
  cli: { group: 'factorize', command: 'linear' },
  description: 'Low-rank (truncated SVD) factorization of MatMul/Gemm weights, optionally activation-aware.',
  optionsSchema: linearOptions,
  run: (model, ctx) => factorizeModel(model, withDefaults(ctx), { linear: true, conv: false }, 'lowrank-linear'),
});
