export * from './wire.js';
export * from './mutate.js';
