/**
 * `@whittle/graph/ir` — the ONNX graph IR and what works on it without running it: types and
 * errors, graph helpers, uses/topological order/names, rewrites (insert/replace/remove nodes,
 * rename values), dead-code elimination, scopes, shape inference, validation, summaries and the
 * graph builder. No side effects.
 * @module
 */
export type * from './types.js';
export * from '../errors.js';

export * from './graph.js';
export * from './attributes.js';
export * from './dtypes.js';
export * from './uses.js';
export * from './topo.js';
export * from './names.js';
export * from './rewrite.js';
export * from './dce.js';
export * from './scopes.js';
export * from './einsum.js';

export { inferValueTypes, inferShapes, type InferredTypes, type InferOptions, type ShapeIssue } from '../analysis/shape/infer.js';
export { registerShapeRule, getShapeRule, type ShapeRule, type RuleContext, type OutInfo } from '../analysis/shape/rule.js';
export { broadcastShapes as broadcastDims, mergeTypes, tensorType } from '../analysis/shape/dims.js';
export { validateModel, checkModel, type ValidationIssue } from '../analysis/validate.js';
export { ATTRIBUTE_TYPES } from '../analysis/attribute_types.js';
export { summarize, type ModelSummary, type LayerSummary } from '../analysis/summarize.js';
export { constantWeights } from '../analysis/constant_weights.js';
export { classColumns, isRecurrentState, outputClassColumns } from '../analysis/class_outputs.js';
export { integerWeightLayers } from '../analysis/integer_weights.js';
export { quantizedWeights, type QuantizedWeight, type QuantizedWeights } from '../analysis/quantized_weights.js';
export { attributeWeightLayers } from '../analysis/attribute_weights.js';
export { weightBytes } from '../analysis/weight_bytes.js';
export * from '../analysis/coverage.js';

export * from '../builder/graph_builder.js';
export * from '../builder/templates.js';
export { assertModel } from './assert_model.js';
