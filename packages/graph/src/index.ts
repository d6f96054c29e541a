/**
 * @whittle/graph — the ONNX graph IR, its algorithms (topological order, rewrites, dead-code
 * elimination, constant folding, shape inference, validation, summaries), the normalization
 * passes, the Pass contract, the pass registry and the recipe runner, the interpreter and
 * training. Subpath entries: `@whittle/graph/ir`, `/passes`, `/interpreter`, `/train`.
 * @module
 */
// The root re-exports every subpath entry (kept for compatibility; import a subpath to say
// which part you use): ir, passes, interpreter (its import registers the ops), train.
export * from './ir/index.js';
export * from './passes/index.js';
export * from './interpreter/index.js';
export * from './train/index.js';
