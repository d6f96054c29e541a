/**
 * Which axes of a model input are image sides or a signal's length, by its shape and type: these
 * get larger made-up sizes than other dynamic dims, and the model's strided layers set their minimum.
 */
import type { ModelInputSpec } from './source.js';

/** Default size of a dynamic image side (`SyntheticOptions.imageDim`). */
export const SYNTHETIC_IMAGE_DIM = 224;
/** Default size of the dynamic length of a 1-D signal input (`SyntheticOptions.signalDim`). */
export const SYNTHETIC_SIGNAL_DIM = 512;
/** Default size of any other dynamic dim (`SyntheticOptions.defaultDim`). */
export const SYNTHETIC_DEFAULT_DIM = 16;

const FLOATS = new Set(['float32', 'float16', 'bfloat16', 'float64']);
// key/value caches and recurrent state look like [batch, heads, length, head_dim] images by shape
const STATE_NAME = /past|present|cache|(^|[._])(key|value|state|h|c)([._]|$)/i;

/**
 * The spatial axes of an image-like input, else none: a rank-4 float input laid out NCHW (a
 * fixed channel count at axis 1: axes 2 and 3) or NHWC (1 to 4 fixed channels last, axis 1 not
 * fixed: axes 1 and 2), not named as a cache or state (`past_key_values.0.key`, `state`). Only
 * these get image-sized dynamic dims; other dynamic dims (sequence lengths, feature counts) stay
 * small, and so does a named dim that is also used elsewhere (a float attention mask
 * [batch, 1, seq, seq] next to token ids [batch, seq]).
 */
export function imageAxes(spec: ModelInputSpec): number[] {
  const s = spec.shape;
  if (!s || s.length !== 4 || (spec.elemType !== undefined && !FLOATS.has(spec.elemType)) || STATE_NAME.test(spec.name)) return [];
  const fixed = (d: unknown): d is number => typeof d === 'number' && d >= 0;
  if (fixed(s[1])) return [2, 3];
  if (fixed(s[3]) && s[3] >= 1 && s[3] <= 4) return [1, 2];
  return [];
}

/** The length axis of a 1-D signal input (audio samples: a rank-2 float [batch, length]), else none. */
export function signalAxes(spec: ModelInputSpec): number[] {
  const s = spec.shape;
  if (!s || s.length !== 2 || (spec.elemType !== undefined && !FLOATS.has(spec.elemType)) || typeof s[0] === 'number' || typeof s[1] === 'number') return [];
  return [1];
}

