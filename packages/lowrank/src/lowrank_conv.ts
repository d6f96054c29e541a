import { definePass } from '@whittle/graph';
import { factorizeModel } from './factorize.js';
import { withDefaults, convOptions } from './options.js';

/**
 * Pass 'lowrank-conv': factorize Conv weights (group = 1) by Tucker-2 (pointwise → core with the
 * original kernel → pointwise, HOSVD with optional ALS; 1-D, 2-D and 3-D convs) or by
 * channel/spatial SVD (2-D: k×1 then 1×k, Jaderberg scheme 2; 1-D: k-conv then pointwise),
 * keeping strides, pads and dilations on the sub-convolutions that own them.
 */
export const lowrankConvPass = definePass({
  specificationVersion: 'v1',
  name: 'lowrank-conv',
  cli: { group: 'factorize', command: 'conv' },
  description: 'Low-rank factorization of Conv weights: Tucker-2 or channel/spatial SVD.',
  optionsSchema: convOptions,
  run: (model, ctx) => factorizeModel(model, withDefaults(ctx), { linear: false, conv: true }, 'lowrank-conv'),
});
