import { definePass } from '@whittle/graph';
import { factorizeModel } from './factorize.js';
import { allOptions } from './options.js';

/**
 * Pass 'lowrank': 'lowrank-linear' and 'lowrank-conv' together, so a parameter budget
 * (`rankSelection: 'budget'`) is shared by every MatMul, Gemm and Conv of the model.
 */
export const lowrankPass = definePass({
  specificationVersion: 'v1',
  name: 'lowrank',
  cli: { group: 'factorize', command: 'lowrank' },
  description: 'Low-rank factorization of MatMul/Gemm (SVD) and Conv (Tucker-2 or spatial SVD) under one rank policy or parameter budget.',
  optionsSchema: allOptions,
  run: (model, ctx) => factorizeModel(model, ctx, { linear: true, conv: true }, 'lowrank'),
});
