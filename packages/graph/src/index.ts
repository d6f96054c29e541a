/**
 * @whittle/graph — the ONNX graph IR, its algorithms (topological order, rewrites, dead-code
 * elimination, constant folding, shape inference, validation, summaries), the normalization
 * passes, the Pass contract, the pass registry and the recipe runner.
 * @module
 */
export type * from './ir/types.js';
export * from './errors.js';

// IR helpers
export * from './ir/graph.js';
export * from './ir/attributes.js';
export * from './ir/dtypes.js';
export * from './ir/uses.js';
export * from './ir/topo.js';
export * from './ir/names.js';
export * from './ir/rewrite.js';
export * from './ir/dce.js';
export * from './ir/scopes.js';

// Analysis
export { inferValueTypes, inferShapes, type InferredTypes, type InferOptions, type ShapeIssue } from './analysis/shape/infer.js';
export { registerShapeRule, getShapeRule, type ShapeRule, type RuleContext, type OutInfo } from './analysis/shape/rule.js';
export { broadcastShapes as broadcastDims, mergeTypes, tensorType } from './analysis/shape/dims.js';
export { validateModel, checkModel, type ValidationIssue } from './analysis/validate.js';
export { ATTRIBUTE_TYPES } from './analysis/attribute_types.js';
export { summarize, type ModelSummary, type LayerSummary } from './analysis/summarize.js';
export { weightBytes } from './analysis/weight_bytes.js';
export * from './analysis/coverage.js';

// Constant folding
export { foldConstants, DEFAULT_FOLD_EXCLUDES, type FoldOptions, type FoldResult } from './fold/fold_constants.js';
export { setConstantEvaluator, getConstantEvaluator, evaluateConstantNode, builtinFoldOps, type ConstantEvaluator } from './fold/evaluator.js';

// Pass contract, registry, recipes
export * from './passes/contract.js';
export * from './passes/options.js';
export * from './passes/context.js';
export * from './passes/activations.js';
export * from './passes/registry.js';
export * from './passes/recipe.js';
export * from './passes/manager.js';

// Normalization passes
export * from './normalize/constants_to_initializers.js';
export * from './normalize/remove_identity.js';
export * from './normalize/remove_mul_by_one.js';
export * from './normalize/shared_weights.js';
export * from './normalize/fold_batchnorm.js';
export * from './normalize/matmul_add_to_gemm.js';
export * from './normalize/basic_passes.js';
export * from './normalize/normalize.js';
export { BUILTIN_PASSES } from './normalize/builtins.js';

// Opset upgrades
export * from './opset/index.js';

// Interpreter: importing the package registers every ONNX op implementation (side effect).
import './interpreter/ops/index.js';
export { runModel, runModelValues, runGraph, type RunOptions } from './interpreter/run.js';
export { registerOp, registerValueOp, getOp, getValueOp, listOps, normalizeDomain, type OpImpl, type ValueOpImpl } from './interpreter/registry.js';
export { isSequence, isOptional, isStrings, isTensor, tensorsOf, type RuntimeValue, type RuntimeSequence, type RuntimeOptional, type RuntimeStrings } from './interpreter/value.js';
export type { OpContext } from './interpreter/context.js';
export { UnsupportedOpError, InterpreterError } from './interpreter/errors.js';
export * from './builder/graph_builder.js';
export * from './builder/templates.js';
export * from './train/graph_module.js';
export * from './train/fit.js';
export * from './train/data.js';
export * from './train/classifier.js';
export * from './train/augment.js';
export * from './train/random_affine.js';
export * from './train/training_data.js';
export * from './train/task_loss.js';
export * from './train/train_on_data.js';
export * from './train/finetune_pass.js';
