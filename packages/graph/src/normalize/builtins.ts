import type { AnyPass } from '../passes/contract.js';
import { deadCodePass, foldConstantsPass, inferShapesPass } from './basic_passes.js';
import { constantsToInitializersPass } from './constants_to_initializers.js';
import { decomposeFusedOpsPass } from './decompose_fused.js';
import { foldBatchNormPass } from './fold_batchnorm.js';
import { fuseMatMulAddPass } from './matmul_add_to_gemm.js';
import { normalizePass } from './normalize.js';
import { removeIdentityPass } from './remove_identity.js';
import { removeMulByOnePass } from './remove_mul_by_one.js';
import { sharedWeightsPass } from './shared_weights.js';
import { fineTunePass } from '../train/finetune_pass.js';

/** Passes of @whittle/graph, registered on first use of the registry. */
export const BUILTIN_PASSES: readonly AnyPass[] = [
  constantsToInitializersPass,
  removeIdentityPass,
  removeMulByOnePass,
  sharedWeightsPass,
  decomposeFusedOpsPass,
  foldBatchNormPass,
  fuseMatMulAddPass,
  foldConstantsPass,
  deadCodePass,
  inferShapesPass,
  normalizePass,
  fineTunePass,
];
