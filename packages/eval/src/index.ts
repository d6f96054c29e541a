/**
 * @whittle/eval — metrics, datasets (MNIST), onnxruntime runners (node entry: `@whittle/eval/node`).
 * @module
 */
export * from './metrics.js';
export * from './mnist.js';
