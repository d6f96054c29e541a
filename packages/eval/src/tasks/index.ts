/**
 * Task metrics: classification (top-1/top-k from labels), language-model perplexity, regression
 * errors, embedding similarity and retrieval agreement. Fidelity to the original is in `fidelity.ts`.
 * @module
 */
export * from './classification.js';
export * from './perplexity.js';
export * from './regression.js';
export * from './embedding.js';
