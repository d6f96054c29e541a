/**
 * Synthetic inputs made from the model's input specs (seeded): for models that come without
 * data. Results on them are labelled "data-free" — they show how far outputs move, not accuracy.
 */
import { type DType, Rng, allocStorage, float32ToFloat16Bits } from '@whittle/tensor';
import { dtypeOfElemType } from './arrays.js';
import { DataError } from './errors.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';

/** Options of {@link syntheticSource}. */
export interface SyntheticOptions {
  /** Number of samples (default 32). */
  count?: number | undefined;
  /** Seed of the values (default 0); the same seed gives the same data on every iteration. */
  seed?: number | undefined;
  /** Values of dynamic dims by dim name (e.g. `{ sequence: 16 }`); these win over every default. */
  dims?: Readonly<Record<string, number>> | undefined;
  /**
   * Size of a dynamic spatial dim of an image-like input (see {@link imageAxes}) not named in
   * `dims`: default `defaultDim` when that is given, else 224 (an ImageNet side, which survives
   * the 32x downsampling of common CNNs; 16x16 collapses to nothing in their last stages).
   */
  imageDim?: number | undefined;
  /**
   * Size of any other dynamic dim not named in `dims` (default 16: sequence lengths and the like
   * stay small). Given without `imageDim`, it sizes image dims too. The batch axis is always 1
   * per sample.
   */
  defaultDim?: number | undefined;
  /** Floats: 'normal' (mean 0, std 1, default) or 'uniform' in [0, 1). */
  distribution?: 'normal' | 'uniform' | undefined;
  /** Integers are drawn from [0, intHigh) (default 10; set the vocabulary size for token ids). */
  intHigh?: number | undefined;
  /** Constant value of an input by name (e.g. `{ sr: 16000 }`; 0 for recurrent state). */
  values?: Readonly<Record<string, number>> | undefined;
}

/** Default size of a dynamic image side ({@link SyntheticOptions.imageDim}). */
export const SYNTHETIC_IMAGE_DIM = 224;
/** Default size of any other dynamic dim ({@link SyntheticOptions.defaultDim}). */
export const SYNTHETIC_DEFAULT_DIM = 16;

const FLOATS = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * The spatial axes of an image-like input, else none: a rank-4 float input laid out NCHW (a
 * fixed channel count at axis 1: axes 2 and 3) or NHWC (1 to 4 fixed channels last, axis 1 not
 * fixed: axes 1 and 2). Only these get image-sized dynamic dims; other dynamic dims (sequence
 * lengths, feature counts) stay small, and so does a named dim that is also used elsewhere (a
 * float attention mask [batch, 1, seq, seq] next to token ids [batch, seq]).
 */
export function imageAxes(spec: ModelInputSpec): number[] {
  const s = spec.shape;
  if (!s || s.length !== 4 || (spec.elemType !== undefined && !FLOATS.has(spec.elemType))) return [];
  const fixed = (d: unknown): d is number => typeof d === 'number' && d >= 0;
  if (fixed(s[1])) return [2, 3];
  if (fixed(s[3]) && s[3] >= 1 && s[3] <= 4) return [1, 2];
  return [];
}

function positiveInt(what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new DataError(`synthetic data: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

/**
 * Names of dynamic dims that appear somewhere other than an image side (e.g. `seq` of token ids
 * and of a float mask [batch, 1, seq, seq]): they stay small everywhere, so a dim keeps one size
 * across the inputs.
 */
function nonImageNames(inputs: readonly ModelInputSpec[]): Set<string> {
  const out = new Set<string>();
  for (const spec of inputs) {
    const image = imageAxes(spec);
    spec.shape?.forEach((d, k) => {
      if (typeof d === 'string' && k > 0 && !image.includes(k)) out.add(d);
    });
  }
  return out;
}

/** Concrete dims of an input and, for the description, what each dynamic dim was given. */
function dimsOf(spec: ModelInputSpec, opts: SyntheticOptions, small: ReadonlySet<string>): { dims: number[]; chosen: string[] } {
  if (!spec.shape) throw new DataError(`input '${spec.name}' has no known shape, so synthetic data cannot be made for it; give real data (--data <path>)`);
  const image = imageAxes(spec);
  const chosen: string[] = [];
  const dims = spec.shape.map((d, k) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (k === 0) return 1;
    const name = typeof d === 'string' ? d : `axis ${k}`;
    const named = typeof d === 'string' ? opts.dims?.[d] : undefined;
    const isImage = image.includes(k) && !(typeof d === 'string' && small.has(d));
    const v = named ?? (isImage ? (opts.imageDim ?? opts.defaultDim ?? SYNTHETIC_IMAGE_DIM) : (opts.defaultDim ?? SYNTHETIC_DEFAULT_DIM));
    chosen.push(`${name}=${v}${named === undefined && isImage ? ' (image side)' : ''}`);
    return v;
  });
  return { dims, chosen };
}

/** Seeded random inputs of the model's input specs; every iteration yields the same samples. */
export function syntheticSource(inputs: readonly ModelInputSpec[], opts: SyntheticOptions = {}): DataSource {
  const count = opts.count ?? 32;
  if (!Number.isInteger(count) || count < 1) throw new DataError(`synthetic data: count must be a positive integer, got ${count}`);
  positiveInt('imageDim', opts.imageDim);
  positiveInt('defaultDim', opts.defaultDim);
  for (const [name, v] of Object.entries(opts.dims ?? {})) positiveInt(`dims.${name}`, v);
  const small = nonImageNames(inputs);
  const plans = inputs.map((spec) => {
    const dtype: DType = dtypeOfElemType(spec.elemType) ?? 'float32';
    if (dtype === 'float64' || dtype === 'uint32' || dtype === 'uint16' || dtype === 'int16') throw new DataError(`input '${spec.name}' takes ${dtype}; synthetic data covers float32/float16/int8/uint8/int32/int64/bool inputs`);
    const { dims, chosen } = dimsOf(spec, opts, small);
    // a batch axis of its own (dynamic) gets one sample per row; otherwise every sample is a whole feed
    const rowShape = spec.shape!.length > 0 && typeof spec.shape![0] !== 'number' ? dims.slice(1) : dims;
    return { spec, dtype, rowShape, chosen };
  });
  const high = opts.intHigh ?? 10;
  // say what the dynamic dims were given: results depend on it (an image model on 16x16 is not on 224x224)
  const sized = plans.filter((p) => p.chosen.length).map((p) => `${p.spec.name} [${p.rowShape.join(',')}] (${p.chosen.join(', ')})`);
  return {
    kind: 'synthetic',
    description: `${count} synthetic sample(s) (seed ${opts.seed ?? 0}, ${opts.distribution ?? 'normal'} floats${sized.length ? `; dynamic dims: ${sized.join('; ')}` : ''}): data-free`,
    dataFree: true,
    hasLabels: false,
    size: count,
    async *chunks(): AsyncGenerator<DataChunk> {
      const rng = new Rng(opts.seed ?? 0);
      const step = 64;
      for (let s = 0; s < count; s += step) {
        const m = Math.min(step, count - s);
        const arrays: Record<string, DataArray> = {};
        for (const p of plans) {
          const shape = [m, ...p.rowShape];
          const n = sizeOfShape(shape);
          const data = allocStorage(p.dtype, n);
          const fixed = opts.values?.[p.spec.name];
          for (let i = 0; i < n; i++) {
            if (p.dtype === 'float32' || p.dtype === 'float16') {
              const v = fixed ?? (opts.distribution === 'uniform' ? rng.next() : rng.normal());
              if (p.dtype === 'float16') (data as Uint16Array)[i] = float32ToFloat16Bits(v);
              else (data as Float32Array)[i] = v;
            } else {
              const v = fixed ?? rng.int(p.dtype === 'bool' ? 2 : high);
              if (p.dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v);
              else (data as Int32Array)[i] = v;
            }
          }
          arrays[p.spec.name] = { data, shape, dtype: p.dtype };
        }
        yield { inputs: arrays, count: m, file: 'synthetic', first: s };
      }
    },
  };
}
