import type { EvalDataset } from '@whittle/eval';
import type { IoInfo } from '../worker/protocol.js';
import type { MnistPack } from './mnist_format.js';

/**
 * Shape of one image for a model input: the input's own dims when they are fixed and hold the
 * pixels, else [1, s, s] for rank 4, [s, s] for rank 3 and flat for rank 2 (as the CLI feeds MNIST).
 */
export function imageSampleShape(input: IoInfo, pixels: number): number[] {
  const rest = input.shape?.slice(1) ?? [];
  if (rest.length && rest.every((d): d is number => typeof d === 'number' && d > 0) && rest.reduce((a, b) => a * b, 1) === pixels) return rest;
  const side = Math.round(Math.sqrt(pixels));
  if (input.shape?.length === 4 && side * side === pixels) return [1, side, side];
  if (input.shape?.length === 3 && side * side === pixels) return [side, side];
  return [pixels];
}

/** MNIST images as the dataset of a single-input model. */
export function mnistDataset(pack: MnistPack, input: IoInfo): EvalDataset {
  return { inputs: { [input.name]: { data: pack.images, sampleShape: imageSampleShape(input, pack.pixels) } }, labels: pack.labels };
}

/** Batch size for a model input: its fixed first dim, else `fallback`. */
export function batchSizeFor(inputs: readonly IoInfo[], fallback = 250): number {
  const d = inputs[0]?.shape?.[0];
  return typeof d === 'number' && d > 0 ? d : fallback;
}
