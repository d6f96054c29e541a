/**
 * Synthetic inputs made from the model's input specs (seeded): for models that come without
 * data. Results on them are labelled "data-free" — they show how far outputs move, not accuracy.
 */
import { type DType, Rng, allocStorage, float32ToFloat16Bits } from '@whittle/tensor';
import { dtypeOfElemType } from './arrays.js';
import { DataError } from './errors.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';
import { CACHE_NAME, MASK_NAME, POSITION_NAME, TOKEN_TYPE_NAME, USE_CACHE_NAME } from './input_names.js';
import { SYNTHETIC_DEFAULT_DIM, SYNTHETIC_IMAGE_DIM, SYNTHETIC_SIGNAL_DIM, imageAxes, signalAxes } from './input_axes.js';

export { imageAxes } from './input_axes.js';

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
   * Length of the dynamic axis of a 1-D signal input (a rank-2 float [batch, length], e.g. audio
   * samples) not named in `dims`: default `defaultDim` when that is given, else 512 (a window's
   * worth: a reflect-padded STFT needs more than its pad; 16 samples fail).
   */
  signalDim?: number | undefined;
  /**
   * Size of any other dynamic dim not named in `dims` (default 16: sequence lengths and the like
   * stay small). Given without `imageDim` / `signalDim`, it sizes those dims too. The batch axis is
   * always 1 per sample, and so is a dim named like a batch axis elsewhere.
   */
  defaultDim?: number | undefined;
  /** Floats: 'normal' (mean 0, std 1, default) or 'uniform' in [0, 1). */
  distribution?: 'normal' | 'uniform' | undefined;
  /** Integers are drawn from [0, intHigh) (default 10; set the vocabulary size for token ids). */
  intHigh?: number | undefined;
  /** Constant value of an input by name (e.g. `{ sr: 16000 }`; 0 for recurrent state). */
  values?: Readonly<Record<string, number>> | undefined;
}

export { SYNTHETIC_DEFAULT_DIM, SYNTHETIC_IMAGE_DIM, SYNTHETIC_SIGNAL_DIM } from './input_axes.js';

function positiveInt(what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new DataError(`synthetic data: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

/** The terms of a dim written as a sum (`past_sequence_length + sequence_length`, `past + 1`), else undefined. */
function sumTerms(name: string): string[] | undefined {
  if (!name.includes('+')) return undefined;
  const terms = name.split('+').map((t) => t.trim());
  return terms.every((t) => t.length > 0) ? terms : undefined;
}

/**
 * How each named dynamic dim is used across the inputs: a name at axis 0 of some input is a batch
 * axis (1 everywhere, so recurrent state [2, batch, 128] agrees with input [batch, samples]); a
 * name used at a position other than an image side or signal length (or inside a sum) keeps the
 * default size everywhere, so a dim has one size across the inputs; the length of a key/value
 * cache input (`past_key_values.N.key`) is 0 everywhere unless `dims` or `defaultDim` size it.
 */
function dimRoles(inputs: readonly ModelInputSpec[]): { batch: Set<string>; plain: Set<string>; cache: Set<string> } {
  const batch = new Set<string>();
  const plain = new Set<string>();
  const cache = new Set<string>();
  for (const spec of inputs) {
    if (CACHE_NAME.test(spec.name)) spec.shape?.forEach((d, k) => { if (k > 0 && typeof d === 'string' && d !== '' && !sumTerms(d)) cache.add(d); });
    const special = [...imageAxes(spec), ...signalAxes(spec)];
    spec.shape?.forEach((d, k) => {
      if (typeof d !== 'string' || d === '') return;
      if (k === 0) batch.add(d);
      const terms = sumTerms(d);
      if (terms) for (const t of terms) plain.add(t);
      else if (k > 0 && !special.includes(k)) plain.add(d);
    });
  }
  for (const b of batch) cache.delete(b);
  return { batch, plain, cache };
}

/** A recurrent state input (`state`, `h0`, `c0`, `hidden`…) of rank 3 with a static first axis. */
function recurrentState(spec: ModelInputSpec): boolean {
  const sh = spec.shape;
  return !!sh && sh.length === 3 && typeof sh[0] === 'number' && typeof sh[2] === 'number' && /(^|[._])(state|states|hidden|h|c|h0|c0|hn|cn)([._]?\d*)$|^(state|hidden)/i.test(spec.name);
}

/** Concrete dims of an input and, for the description, what each dynamic dim was given. */
function dimsOf(spec: ModelInputSpec, opts: SyntheticOptions, roles: ReturnType<typeof dimRoles>): { dims: number[]; chosen: string[] } {
  if (!spec.shape) throw new DataError(`input '${spec.name}' has no known shape, so synthetic data cannot be made for it; give real data (--data <path>)`);
  const image = imageAxes(spec);
  const signal = signalAxes(spec);
  const chosen: string[] = [];
  const sizeOf = (d: string | null | undefined, k: number): { v: number; why?: string } => {
    const named = typeof d === 'string' && d !== '' ? opts.dims?.[d] : undefined;
    if (named !== undefined) return { v: named };
    const shared = typeof d === 'string' && d !== '';
    if (shared && roles.batch.has(d)) return { v: 1, why: 'batch' };
    // an empty past, as in a decoder's first step (Transformers.js feeds it so): every branch of
    // a merged decoder accepts it, and the attention mask's sum stays the new tokens' count
    if (shared && roles.cache.has(d) && opts.defaultDim === undefined) return { v: 0, why: 'empty cache' };
    const plain = shared && roles.plain.has(d);
    // the model's strided layers may need more than the default (an explicit size is the caller's)
    const min = spec.minDims?.[k];
    const atLeast = (given: number | undefined, def: number, why: string): { v: number; why: string } =>
      given === undefined && min !== undefined && min > def ? { v: min, why: `${why}; ${def} collapses to nothing in the model's strided layers` } : { v: given ?? def, why };
    if (image.includes(k) && !plain) return atLeast(opts.imageDim ?? opts.defaultDim, SYNTHETIC_IMAGE_DIM, 'image side');
    if (signal.includes(k) && !plain) return atLeast(opts.signalDim ?? opts.defaultDim, SYNTHETIC_SIGNAL_DIM, 'signal length');
    return { v: opts.defaultDim ?? SYNTHETIC_DEFAULT_DIM };
  };
  const dims = spec.shape.map((d, k) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (k === 0) return 1;
    const name = typeof d === 'string' && d !== '' ? d : `axis ${k}`;
    const terms = typeof d === 'string' ? sumTerms(d) : undefined;
    if (terms && opts.dims?.[d as string] === undefined) {
      // a sum of other dims (Optimum's attention mask over past + new tokens): the sum of their sizes
      const v = terms.reduce((acc, t) => acc + (/^\d+$/.test(t) ? Number(t) : sizeOf(t, -1).v), 0);
      chosen.push(`${name}=${v} (sum)`);
      return v;
    }
    if (k === 1 && !(typeof d === 'string' && d !== '') && recurrentState(spec)) {
      // ONNX RNN/GRU/LSTM states are [directions·layers, batch, hidden]: an unnamed axis 1 is the batch
      chosen.push(`${name}=1 (batch of a recurrent state)`);
      return 1;
    }
    const { v, why } = sizeOf(d as string | null | undefined, k);
    chosen.push(`${name}=${v}${why ? ` (${why})` : ''}`);
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
  positiveInt('signalDim', opts.signalDim);
  const roles = dimRoles(inputs);
  const plans = inputs.map((spec) => {
    const dtype: DType = dtypeOfElemType(spec.elemType) ?? 'float32';
    if (dtype === 'float64' || dtype === 'uint32' || dtype === 'uint16' || dtype === 'int16') throw new DataError(`input '${spec.name}' takes ${dtype}; synthetic data covers float32/float16/int8/uint8/int32/int64/bool inputs`);
    const { dims, chosen } = dimsOf(spec, opts, roles);
    // a batch axis of its own (dynamic) gets one sample per row; otherwise every sample is a whole feed
    const rowShape = spec.shape!.length > 0 && typeof spec.shape![0] !== 'number' ? dims.slice(1) : dims;
    return { spec, dtype, rowShape, chosen };
  });
  const high = opts.intHigh ?? 10;
  // the cache branch on an empty cache attends over no keys (onnxruntime answers, a float16 copy
  // NaN): with every cache input empty, as Transformers.js's first step, the flag is false
  const caches = plans.filter((p) => CACHE_NAME.test(p.spec.name));
  const useCache = caches.length > 0 && caches.every((p) => sizeOfShape(p.rowShape) > 0) ? 1 : 0;
  // integer position ids count along the sequence after the past ([heads, past, head_dim] rows), so
  // they stay inside the position table; token types are the first segment's
  const past = useCache && caches[0]!.rowShape.length >= 2 ? caches[0]!.rowShape[caches[0]!.rowShape.length - 2]! : 0;
  const integer = (p: (typeof plans)[number]): boolean => p.dtype !== 'float32' && p.dtype !== 'float16' && p.dtype !== 'bool';
  // say what the dynamic dims were given: results depend on it (an image model on 16x16 is not on 224x224)
  // inputs sized alike (a decoder's 24 cache tensors) are said once: first … last (count)
  const alike = new Map<string, string[]>();
  for (const p of plans.filter((x) => x.chosen.length)) {
    const how = `[${p.rowShape.join(',')}] (${p.chosen.join(', ')})`;
    (alike.get(how) ?? alike.set(how, []).get(how)!).push(p.spec.name);
  }
  const sized = [...alike].map(([how, names]) => `${names.length > 2 ? `${names[0]} … ${names[names.length - 1]} (${names.length} inputs)` : names.join(', ')} ${how}`);
  // a scalar mode switch (sample rate) is drawn from the values the graph compares it with
  const switches = plans.filter((p) => p.spec.comparedWith?.length && opts.values?.[p.spec.name] === undefined && p.dtype !== 'bool').map((p) => `${p.spec.name} from {${p.spec.comparedWith!.join(', ')}} (compared with in the graph)`);
  return {
    kind: 'synthetic',
    description: `${count} synthetic sample(s) (seed ${opts.seed ?? 0}, ${opts.distribution ?? 'normal'} floats${sized.length ? `; dynamic dims: ${sized.join('; ')}` : ''}${switches.length ? `; ${switches.join('; ')}` : ''}): data-free`,
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
          const fixed = opts.values?.[p.spec.name]
            ?? (p.dtype === 'bool' && USE_CACHE_NAME.test(p.spec.name) ? useCache : undefined)
            ?? (p.dtype !== 'float32' && p.dtype !== 'float16' && MASK_NAME.test(p.spec.name) ? 1 : undefined)
            ?? (integer(p) && TOKEN_TYPE_NAME.test(p.spec.name) ? 0 : undefined);
          const length = shape[shape.length - 1] ?? 1;
          const position = integer(p) && shape.length >= 2 && POSITION_NAME.test(p.spec.name) && opts.values?.[p.spec.name] === undefined;
          for (let i = 0; i < n; i++) {
            if (p.dtype === 'float32' || p.dtype === 'float16') {
              const v = fixed ?? (opts.distribution === 'uniform' ? rng.next() : rng.normal());
              if (p.dtype === 'float16') (data as Uint16Array)[i] = float32ToFloat16Bits(v);
              else (data as Float32Array)[i] = v;
            } else {
              const choices = p.spec.comparedWith;
              const v = position ? past + (i % length) : fixed ?? (choices?.length && p.dtype !== 'bool' ? choices[rng.int(choices.length)]! : rng.int(p.dtype === 'bool' ? 2 : high));
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
