export * from './describe_backends.js';
export * from './reference.js';
export * from './tasks.js';
export { ortSaturatesU8S8 } from './ort_saturation.js';
