export * from './config.js';
export * from './decoder.js';
export * from './feeds.js';
