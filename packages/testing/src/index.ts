export * from './describe_backends.js';
export * from './reference.js';
export * from './tasks.js';
