/**
 * @whittle/quantize/node — everything in `@whittle/quantize` plus band threads on
 * node:worker_threads for the streaming MatMulNBits pass
 * (`quantizeWeightsStreaming(model, io, { threads: 2, bandThreads: nodeBandThreads })`).
 * @module
 */
export * from './index.js';
export { nodeBandThreads } from './node/band_threads.js';
