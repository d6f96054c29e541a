/**
 * Batching: chunks of a {@link DataSource} checked against the model's inputs (names, ranks,
 * fixed dims, element types), converted, and stacked into cpu tensors.
 */
import type { Feeds } from '@whittle/graph';
import { type Tensor, tensor } from '@whittle/tensor';
import { concatRows, convertArray, dtypeOfElemType, sliceRows } from './arrays.js';
import { decoderDefaults } from './decoder_defaults.js';
import { DataError } from './errors.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';

/** One batch: feeds by model input name (cpu tensors), with labels / expected outputs when the data has them. */
export interface DataBatch {
  feeds: Feeds;
  /** Samples in the batch. */
  count: number;
  /** Index of the batch's first sample in the source. */
  first: number;
  labels?: Int32Array | undefined;
  targets?: Record<string, Tensor> | undefined;
  /** File (or folder) the first sample came from. */
  file: string;
}

/** Options of {@link batchesOf}. */
export interface BatchOptions {
  /** The model's inputs: every one must be fed; ranks, fixed dims and element types are checked. */
  inputs?: readonly ModelInputSpec[] | undefined;
  /** Samples per batch where the model's batch axis is dynamic (default 32). */
  batchSize?: number | undefined;
  /** Read at most this many samples. */
  limit?: number | undefined;
}

interface Fragment {
  arrays: Record<string, DataArray>;
  label: number | undefined;
  targets: Record<string, DataArray> | undefined;
  file: string;
  index: number;
}

function shapeText(s: readonly unknown[]): string {
  return `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** How a chunk's rows meet one model input: entries of its batch axis ('row') or complete feeds ('feed'). */
function modeOf(spec: ModelInputSpec | undefined, a: DataArray, file: string, sample: number, feeds: boolean): 'row' | 'feed' {
  if (!spec?.shape) return feeds ? 'feed' : 'row';
  const rowRank = a.shape.length - 1;
  const r = spec.shape.length;
  if (rowRank === r - 1) return 'row';
  if (rowRank === r) return 'feed';
  throw new DataError(
    `input '${spec.name}' takes rank ${r} ${shapeText(spec.shape)}, the sample has shape ${shapeText(a.shape.slice(1))}; give samples of shape ${shapeText(spec.shape.slice(1))} (or complete feeds ${shapeText(spec.shape)})`,
    { file, sample },
  );
}

function checkDims(spec: ModelInputSpec, dims: readonly number[], fromAxis: number, file: string, sample: number): void {
  const want = spec.shape!;
  for (let k = fromAxis; k < want.length; k++) {
    const d = want[k];
    if (typeof d === 'number' && d !== dims[k]) {
      throw new DataError(`input '${spec.name}' takes shape ${shapeText(want)}, the sample gives ${shapeText(dims)} (axis ${k}: ${dims[k]} instead of ${d})`, { file, sample });
    }
  }
}

/** Whether feeds of several samples can be joined along the model's batch axis. */
function stackable(specs: readonly ModelInputSpec[] | undefined): boolean {
  if (!specs) return true;
  return specs.every((s) => !s.shape || (s.shape.length >= 1 && typeof s.shape[0] !== 'number'));
}

function* fragmentsOf(given: DataChunk, specs: readonly ModelInputSpec[] | undefined): Generator<Fragment> {
  let chunk = given;
  const { file, first, count } = chunk;
  if (specs) {
    const missing = specs.filter((s) => !chunk.inputs[s.name]);
    // token ids for a decoder with a KV cache: its other inputs as for a first step over them
    const filled = missing.length ? decoderDefaults(chunk, missing) : undefined;
    if (filled) chunk = { ...chunk, inputs: { ...chunk.inputs, ...filled } };
    else if (missing.length) {
      throw new DataError(
        `no data for model input(s) ${missing.map((s) => `'${s.name}'`).join(', ')}; the data holds ${Object.keys(chunk.inputs).map((n) => `'${n}'`).join(', ') || 'nothing'} (model inputs: ${specs.map((s) => s.name).join(', ')})`,
        { file, sample: first },
      );
    }
    const extra = Object.keys(chunk.inputs).filter((n) => !specs.some((s) => s.name === n));
    if (extra.length) throw new DataError(`array(s) ${extra.map((n) => `'${n}'`).join(', ')} match no model input (inputs: ${specs.map((s) => s.name).join(', ')}); name them after the inputs`, { file, sample: first });
  }
  for (const [name, a] of Object.entries(chunk.inputs)) {
    if (a.shape.length === 0 || a.shape[0] !== count) throw new DataError(`input '${name}' holds ${a.shape[0] ?? 0} sample(s), the other data ${count}`, { file, sample: first });
  }
  if (chunk.labels && chunk.labels.length !== count) throw new DataError(`${chunk.labels.length} label(s) for ${count} sample(s); give one label per sample`, { file, sample: first });
  const plan = Object.entries(chunk.inputs).map(([name, a]) => {
    const spec = specs?.find((s) => s.name === name);
    const mode = modeOf(spec, a, file, first, chunk.rowsAreFeeds === true);
    const to = dtypeOfElemType(spec?.elemType);
    return { name, spec, mode, a: to ? convertArray(a, to, name, { file, sample: first }) : a };
  });
  for (let i = 0; i < count; i++) {
    const arrays: Record<string, DataArray> = {};
    for (const p of plan) {
      const row = sliceRows(p.a, i, i + 1);
      const frag = p.mode === 'row' ? row : { ...row, shape: row.shape.slice(1) };
      if (p.spec?.shape) checkDims(p.spec, frag.shape, p.mode === 'row' ? 1 : 0, file, first + i);
      arrays[p.name] = frag;
    }
    let targets: Record<string, DataArray> | undefined;
    if (chunk.targets) {
      targets = {};
      for (const [name, t] of Object.entries(chunk.targets)) {
        const row = sliceRows(t, i, i + 1);
        // a complete feed's expected output is the whole row; a sample's target keeps its row axis so samples stack
        targets[name] = chunk.rowsAreFeeds ? { ...row, shape: row.shape.slice(1) } : row;
      }
    }
    yield { arrays, label: chunk.labels?.[i], targets, file, index: first + i };
  }
}

function sameTrailing(a: Record<string, DataArray>, b: Record<string, DataArray>): boolean {
  for (const [n, x] of Object.entries(a)) {
    const y = b[n];
    if (!y || x.shape.length !== y.shape.length) return false;
    for (let k = 1; k < x.shape.length; k++) if (x.shape[k] !== y.shape[k]) return false;
  }
  return true;
}

function toBatch(frags: readonly Fragment[]): DataBatch {
  const f0 = frags[0]!;
  const feeds: Feeds = {};
  for (const name of Object.keys(f0.arrays)) {
    const a = concatRows(frags.map((f) => f.arrays[name]!));
    feeds[name] = tensor(a.data, a.shape, a.dtype, { backend: 'cpu' });
  }
  const batch: DataBatch = { feeds, count: frags.length, first: f0.index, file: f0.file };
  if (frags.every((f) => f.label !== undefined)) batch.labels = Int32Array.from(frags, (f) => f.label!);
  if (f0.targets) {
    const targets: Record<string, Tensor> = {};
    for (const name of Object.keys(f0.targets)) {
      const a = frags.length === 1 ? f0.targets[name]! : concatRows(frags.map((f) => f.targets![name]!));
      targets[name] = tensor(a.data, a.shape, a.dtype, { backend: 'cpu' });
    }
    batch.targets = targets;
  }
  return batch;
}

/**
 * Batches of a source, re-iterable: every `for await` reads the source from the start. Samples
 * are joined along the model's batch axis when every input's first dim is dynamic and the
 * shapes agree (a change of shape, e.g. a longer token sequence, starts a new batch); otherwise
 * each sample is its own feed.
 */
export function batchesOf(source: DataSource, opts: BatchOptions = {}): AsyncIterable<DataBatch> {
  const size = opts.batchSize ?? 32;
  if (!Number.isInteger(size) || size < 1) throw new DataError(`batch size must be a positive integer, got ${size}`);
  const limit = opts.limit ?? Infinity;
  const specs = opts.inputs;
  const join = stackable(specs);
  return {
    async *[Symbol.asyncIterator]() {
      let seen = 0;
      let pending: Fragment[] = [];
      for await (const chunk of source.chunks()) {
        for (const f of fragmentsOf(chunk, specs)) {
          if (seen >= limit) break;
          seen++;
          if (pending.length && (!join || pending.length >= size || !sameTrailing(pending[0]!.arrays, f.arrays))) {
            yield toBatch(pending);
            pending = [];
          }
          pending.push(f);
        }
        if (seen >= limit) break;
      }
      if (pending.length) yield toBatch(pending);
    },
  };
}
