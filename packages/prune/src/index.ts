/**
 * @whittle/prune — pruning passes: unstructured (magnitude, random, Wanda; layer-wise, global or
 * per row), N:M semi-structured (2:4, 4:8), structured channel pruning with graph surgery,
 * gradual pruning with fine-tuning (TF-MOT schedules), sensitivity analysis and sparsity reports.
 *
 * Importing the package registers its passes (`PRUNE_PASSES`; its one side effect);
 * `@whittle/prune/passes` exports them without registering.
 * @module
 */
import { registerPasses } from '@whittle/graph';
import { PRUNE_PASSES } from './passes.js';

export { pruneUnstructured, type UnstructuredOptions } from './unstructured.js';
export { pruneNM } from './nm_pass.js';
export { pruneStructured, selectChannels, removeChannels, sliceAxis, type StructuredOptions, type ChannelCriterion, type ChannelCluster, type HeadReport } from './structured/structured.js';
export { analyzeChannels, type ChannelAnalysis, type Space, type SliceAction, type Producer } from './structured/channels.js';
export { analyzeHeads, headScores, removeHeads, type AttentionBlock, type HeadAnalysis, type HeadProjection, type ShapeEdit } from './structured/heads.js';
export { pruneSensitivity, sensitivityAnalysis, sparsityFromSensitivity, type SensitivityOptions, type SensitivityResult, type SensitivityPoint } from './sensitivity.js';
export { checkNMPattern, nmMask, type NMCheck } from './nm.js';
export { computeMasks, applyMasks, masksFromZeros, weightScores, kthSmallest, type Masks, type MaskOptions, type ScoreMethod, type PruneScope } from './masks.js';
export { collectInputNorms, inputNormsPoint, type InputNorms, type CollectOptions } from './activations.js';
export { findPrunableWeights, packMask, unpackMask, type PrunableWeight } from './layers.js';
export { sparsityReport, initializerBytesOf, REPORT_GZIP_LEVEL, type SparsityReport, type LayerSparsity } from './report.js';
/** The shared gzip-size helper and its level (re-exported from @whittle/tensor). */
export { gzipSize, GZIP_LEVEL } from '@whittle/tensor';
export { pruneGradual, gradualOptions } from './gradual_pass.js';
export { pruneSparseGpt } from './sparsegpt_pass.js';
export { sparseGptPrune, type SparseGptSpec, type SparseGptResult } from './sparsegpt.js';
export {
  constantSparsity,
  polynomialDecay,
  MaskController,
  fineTuneWithMasks,
  gradualPrune,
  type PruningSchedule,
  type MaskControllerOptions,
  type FineTuneOptions,
  type FineTuneResult,
} from './gradual.js';

export { PRUNE_PASSES } from './passes.js';

// The package's one side effect: register its passes (a name already registered throws).
registerPasses(PRUNE_PASSES);
