/**
 * `@whittle/graph/passes` — the Pass contract (`definePass`, options schemas, contexts), the pass
 * registry, the recipe runner and PassManager, the built-in normalization passes, opset upgrades
 * and constant folding (which evaluates nodes with the interpreter's op implementations).
 * @module
 */
export * from './contract.js';
export * from './options.js';
export * from './context.js';
export * from './activations.js';
export { runSequential, type SequentialOptions } from './sequential.js';
export * from './registry.js';
export * from './recipe.js';
export * from './manager.js';

export { foldConstants, DEFAULT_FOLD_EXCLUDES, type FoldOptions, type FoldResult } from '../fold/fold_constants.js';
export { setConstantEvaluator, getConstantEvaluator, evaluateConstantNode, builtinFoldOps, type ConstantEvaluator } from '../fold/evaluator.js';

export * from '../normalize/constants_to_initializers.js';
export * from '../normalize/remove_identity.js';
export * from '../normalize/remove_mul_by_one.js';
export * from '../normalize/shared_weights.js';
export * from '../normalize/fold_batchnorm.js';
export * from '../normalize/matmul_add_to_gemm.js';
export * from '../normalize/decompose_fused.js';
export * from '../normalize/basic_passes.js';
export * from '../normalize/normalize.js';
export { BUILTIN_PASSES } from '../normalize/builtins.js';

export * from '../opset/index.js';
