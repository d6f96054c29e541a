/**
 * Sequential calibration (later layers see the activations of the already-pruned earlier ones):
 * the runner lives in @whittle/graph's passes entry, shared with @whittle/quantize's GPTQ.
 */
export { runSequential, type SequentialOptions } from '@whittle/graph';
