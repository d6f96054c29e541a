import { definePass } from '@whittle/graph';
import { factorizeModel } from './factorize.js';
import { withDefaults, convOptions } from './options.js';

/**
 * Pass 'lowrank-conv': factorize 2-D Conv weights (group = 1) by Tucker-2 (1×1 → k×k core →
 * 1×1, HOSVD with optional ALS) or by channel/spatial SVD (k×1 then 1×k, Jaderberg scheme 2),
 * keeping strides, pads and dilations on the sub-convolutions that own them.
 */
export const lowrankConvPass = definePass({
  specificationVersion: 'v1',
  name: 'lowrank-conv',
  description: 'Low-rank factorization of Conv weights: Tucker-2 or channel/spatial SVD.',
  optionsSchema: convOptions,
  run: (model, ctx) => factorizeModel(model, withDefaults(ctx), { linear: false, conv: true }, 'lowrank-conv'),
});
