/**
 * @whittle/eval/node — everything in `@whittle/eval` plus onnxruntime-node runners.
 * @module
 */
export * from './index.js';
export * from './ort_runner.js';
export * from './latency_ort.js';
export { materializeComputedWeights } from './computed_weights_ort.js';
export * from './latency_compare.js';
export * from './ort_check.js';
export * from './node/data_files.js';
export * from './node/user_metric.js';
export * from './node/lm_ort.js';
