export * from './runner.js';
export * from './compare.js';
export * from './allowlist.js';
