/**
 * Sequential calibration (later layers see the activations of the already-quantized earlier
 * ones): the runner lives in @whittle/graph's passes entry, shared with @whittle/prune.
 */
export { runSequential, type SequentialOptions } from '@whittle/graph';
