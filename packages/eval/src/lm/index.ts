/**
 * LM evaluation of decoders with a KV cache (Optimum / Transformers.js layout, merged or not):
 * sliding-window perplexity, greedy-generation agreement, tokens/s. Browser-safe.
 * @module
 */
export * from './session.js';
export * from './io.js';
export * from './generate.js';
export * from './windows.js';
export * from './perplexity.js';
export * from './agreement.js';
export * from './speed.js';
export * from './tokens.js';
export * from './evaluate.js';
export * from './interpreter_session.js';
