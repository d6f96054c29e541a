/**
 * @whittle/lowrank — low-rank factorization passes: truncated SVD of MatMul/Gemm weights
 * (exact or randomized, optionally activation-aware: SVD-LLM whitening or ASVD scaling),
 * Tucker-2 and channel/spatial SVD of convolutions, rank selection by energy, error bound or
 * a global parameter budget, and a fine-tuning helper. Importing the package registers the
 * passes 'lowrank-linear', 'lowrank-conv' and 'lowrank' (`LOWRANK_PASSES`; its one side effect);
 * `@whittle/lowrank/passes` exports them without registering.
 * @module
 */
import { registerPasses } from '@whittle/graph';
import { LOWRANK_PASSES } from './passes.js';

export { lowrankLinearPass } from './lowrank_linear.js';
export { lowrankConvPass } from './lowrank_conv.js';
export { lowrankPass } from './lowrank.js';
export { linearOptions, convOptions, allOptions, type LowrankOptions } from './options.js';
export { factorizeModel, type LayerReport, type Targets } from './factorize.js';
export { decompose, energyOf, type DecomposeOptions, type Spectrum, type SvdMethod } from './decompose.js';
export { allocateBudget, selectLocal, relativeError2, type RankProblem, type RankSelection, type Allocation } from './rank.js';
export { collectInputStats, type InputStats, type StatRequest, type CollectOptions } from './calibration.js';
export { whiteningTransform, asvdTransform, type InputTransform } from './whiten.js';
export { fineTuneClassifier, isFactorName, FACTOR_MARKERS, type FineTuneOptions } from './finetune.js';

export { LOWRANK_PASSES } from './passes.js';

// The package's one side effect: register its passes (a name already registered throws).
registerPasses(LOWRANK_PASSES);
