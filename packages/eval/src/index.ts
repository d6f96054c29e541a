/**
 * @whittle/eval — metrics, fidelity, size, Pareto front, reports and model cards, datasets
 * (MNIST), Transformers.js naming. Browser-safe; onnxruntime-node runners, latency, the layout
 * writer and file output are in `@whittle/eval/node`.
 * @module
 */
export * from './metrics.js';
export * from './mnist.js';
export * from './errors.js';
export * from './fidelity.js';
export * from './tasks/index.js';
export * from './size.js';
export * from './pareto.js';
export * from './latency_stats.js';
export * from './report.js';
export * from './model_card.js';
export * from './dataset.js';
export * from './transformers_js.js';
export * from './transformers_js_config.js';
export * from './decoder_attention.js';
export * from './transformers_js_encoder.js';
export * from './transformers_js_folder.js';
export * from './lm/index.js';
export * from './data/index.js';
