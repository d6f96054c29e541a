/**
 * Data specs: a YAML/JSON file saying where the data is and how it feeds the model, and the
 * detection of the simple cases from a path alone.
 *
 * ```yaml
 * kind: images            # onnx-test-data | npy | npy-folder | npz | images | csv | tsv | jsonl | synthetic
 * path: ./val             # relative to the spec file
 * input: pixel_values     # the model input it feeds (images, csv, jsonl)
 * preprocess: { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channels: rgb, layout: nchw }
 * labels: labels.csv      # npy: a .npy; npz: an array name; images: a labels file; csv: a column
 * skip: 0
 * limit: 500
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { npyFolderSource, npySource, npzSource } from './array_source.js';
import { DataError } from './errors.js';
import { type DataFiles, baseName, dirName, joinPath } from './files.js';
import type { ImagePreprocess } from './image.js';
import { imageFolderSource, listImages } from './image_folder.js';
import { jsonlSource } from './jsonl.js';
import { onnxTestDataSource, testDataSets } from './onnx_test_data.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { type SyntheticOptions, syntheticSource } from './synthetic.js';
import { tabularSource } from './tabular.js';

/** Kinds a data spec may name. */
export const DATA_SPEC_KINDS = ['onnx-test-data', 'npy', 'npy-folder', 'npz', 'images', 'csv', 'tsv', 'jsonl', 'synthetic'] as const;
export type DataSpecKind = (typeof DATA_SPEC_KINDS)[number];

/** A data spec (see the module comment for an example). */
export interface DataSpec {
  kind: DataSpecKind;
  /** File or folder (not for synthetic); relative paths are taken from the spec file's folder. */
  path?: string | undefined;
  /** The model input the data feeds (images, csv/tsv, jsonl bare arrays, a single npy). */
  input?: string | undefined;
  /** Model input name → array name (npz, npy-folder) or .npy path (npy). */
  inputs?: Readonly<Record<string, string>> | undefined;
  /** Label source: .npy path (npy), array name (npz, npy-folder), labels file (images), column (csv), field (jsonl). */
  labels?: string | undefined;
  /** Class names in the model's output order (images, csv with text labels). */
  classes?: readonly string[] | undefined;
  preprocess?: ImagePreprocess | undefined;
  /** csv/tsv: feature columns, delimiter, shape of one sample's features. */
  features?: readonly string[] | undefined;
  delimiter?: string | undefined;
  sampleShape?: readonly number[] | undefined;
  /** synthetic: count, seed, dims, distribution, intHigh, values. */
  synthetic?: SyntheticOptions | undefined;
  /** Skip this many samples first. */
  skip?: number | undefined;
  /** Use at most this many samples (after `skip`). */
  limit?: number | undefined;
}

const KEYS = new Set(['kind', 'path', 'input', 'inputs', 'labels', 'classes', 'preprocess', 'features', 'delimiter', 'sampleShape', 'synthetic', 'skip', 'limit']);

/** Parse and check a YAML/JSON data spec; relative paths are resolved against `baseDir`. */
export function parseDataSpec(text: string, file = 'data spec', baseDir = ''): DataSpec {
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch (e) {
    throw new DataError(`not valid YAML/JSON: ${(e as Error).message}`, { file }, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DataError('a data spec is a mapping with at least `kind` (and `path`)', { file });
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.has(k));
  if (unknown.length) throw new DataError(`unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; a data spec has ${[...KEYS].join(', ')}`, { file });
  if (!DATA_SPEC_KINDS.includes(o.kind as DataSpecKind)) throw new DataError(`kind must be one of ${DATA_SPEC_KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`, { file });
  const spec = o as unknown as DataSpec;
  if (spec.kind !== 'synthetic' && typeof spec.path !== 'string') throw new DataError(`kind '${spec.kind}' needs a path`, { file });
  for (const k of ['skip', 'limit'] as const) {
    const x = spec[k];
    if (x !== undefined && (!Number.isInteger(x) || x < 0)) throw new DataError(`${k} must be a non-negative integer, got ${JSON.stringify(x)}`, { file });
  }
  const rel = (p: string): string => (/^([\\/]|[A-Za-z]:)/.test(p) || !baseDir ? p : joinPath(baseDir, p));
  const out: DataSpec = { ...spec };
  if (spec.path !== undefined) out.path = rel(spec.path);
  if (spec.kind === 'npy' && spec.inputs) out.inputs = Object.fromEntries(Object.entries(spec.inputs).map(([i, p]) => [i, rel(p)]));
  if (spec.labels !== undefined && (spec.kind === 'npy' || spec.kind === 'images')) out.labels = rel(spec.labels);
  return out;
}

/**
 * What a path holds, when it can be told: a data-spec file (.yaml/.yml/.json, parsed), a folder of
 * `test_data_set_*`, of `.npy` files or of images, a `.npy`, `.npz`, `.csv`, `.tsv`, `.jsonl`
 * file, or the word `synthetic`.
 */
export async function detectDataSpec(files: DataFiles, path: string): Promise<DataSpec> {
  const m = /^synthetic(?::(\d+))?$/.exec(path);
  if (m) return { kind: 'synthetic', ...(m[1] ? { synthetic: { count: Number(m[1]) } } : {}) };
  if (await files.isDir(path)) {
    if ((await testDataSets(files, path)).length) return { kind: 'onnx-test-data', path };
    const entries = await files.list(path);
    if (entries.some((e) => !e.dir && /\.npy$/i.test(e.name))) return { kind: 'npy-folder', path };
    if ((await listImages(files, path)).length) return { kind: 'images', path };
    throw new DataError('the folder holds no test_data_set_<N> folders, .npy files or PNG/JPEG images; give a data spec (.yaml) that says what it holds', { file: path });
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  switch (ext) {
    case 'yaml':
    case 'yml':
    case 'json':
      return parseDataSpec(new TextDecoder().decode(await files.read(path)), path, dirName(path));
    case 'npy':
      return { kind: 'npy', path };
    case 'npz':
      return { kind: 'npz', path };
    case 'csv':
      return { kind: 'csv', path };
    case 'tsv':
      return { kind: 'tsv', path };
    case 'jsonl':
    case 'ndjson':
      return { kind: 'jsonl', path };
    default:
      throw new DataError(`cannot tell what '${baseName(path)}' holds from its name; use .npy, .npz, .csv, .tsv, .jsonl, a folder (test_data_set_*, .npy files, images) or a data spec (.yaml)`, { file: path });
  }
}

/** Samples [skip, skip + limit) of a source. */
export function subsetSource(source: DataSource, skip = 0, limit = Infinity): DataSource {
  if (skip === 0 && limit === Infinity) return source;
  const size = source.size !== undefined ? Math.max(0, Math.min(limit, source.size - skip)) : undefined;
  return {
    ...source,
    description: `${source.description} (samples ${skip}–${limit === Infinity ? 'end' : skip + limit - 1})`,
    size,
    async *chunks(): AsyncGenerator<DataChunk> {
      const end = skip + limit;
      for await (const c of source.chunks()) {
        const lo = Math.max(skip, c.first);
        const hi = Math.min(end, c.first + c.count);
        if (hi <= lo) {
          if (c.first >= end) return;
          continue;
        }
        if (lo === c.first && hi === c.first + c.count) {
          yield c;
          continue;
        }
        const a = lo - c.first;
        const b = hi - c.first;
        const cut = (arrs: Record<string, DataArray>): Record<string, DataArray> => {
          const out: Record<string, DataArray> = {};
          for (const [n, x] of Object.entries(arrs)) {
            const per = x.data.length / x.shape[0]!;
            out[n] = { data: x.data.subarray(a * per, b * per) as typeof x.data, shape: [b - a, ...x.shape.slice(1)], dtype: x.dtype };
          }
          return out;
        };
        const sub: DataChunk = { ...c, inputs: cut(c.inputs), count: b - a, first: lo };
        if (c.labels) sub.labels = c.labels.subarray(a, b);
        if (c.targets) sub.targets = cut(c.targets);
        yield sub;
      }
    },
  };
}

/** Options of {@link openDataSource}. */
export interface OpenDataOptions {
  files: DataFiles;
  /** The model's inputs (see `modelInputSpecs`). */
  inputs: readonly ModelInputSpec[];
}

/** Open the source a spec describes (lazily: files are read when iterated). */
export async function openDataSource(spec: DataSpec, opts: OpenDataOptions): Promise<DataSource> {
  const { files, inputs } = opts;
  const path = spec.path ?? '';
  let source: DataSource;
  switch (spec.kind) {
    case 'onnx-test-data':
      source = await onnxTestDataSource(files, path, inputs);
      break;
    case 'npy': {
      let byInput = spec.inputs;
      if (!byInput) {
        const input = spec.input ?? (inputs.length === 1 ? inputs[0]!.name : undefined);
        if (!input) throw new DataError(`one .npy for a model with ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); use a .npz or a folder with one <input>.npy per input, or map files in a data spec (inputs:)`, { file: path });
        byInput = { [input]: path };
      }
      source = await npySource(files, { inputs: byInput, labels: spec.labels });
      break;
    }
    case 'npy-folder':
      source = await npyFolderSource(files, path, inputs, { map: spec.inputs, labels: spec.labels });
      break;
    case 'npz':
      source = await npzSource(files, path, inputs, { map: spec.inputs, labels: spec.labels });
      break;
    case 'images':
      source = await imageFolderSource(files, path, inputs, { input: spec.input, preprocess: spec.preprocess, labelsFile: spec.labels, classes: spec.classes });
      break;
    case 'csv':
    case 'tsv':
      source = await tabularSource(files, path, inputs, { input: spec.input, features: spec.features, label: spec.labels, delimiter: spec.delimiter ?? (spec.kind === 'tsv' ? '\t' : undefined), sampleShape: spec.sampleShape, classes: spec.classes });
      break;
    case 'jsonl':
      source = await jsonlSource(files, path, inputs, { input: spec.input, labelField: spec.labels });
      break;
    case 'synthetic':
      source = syntheticSource(inputs, spec.synthetic ?? {});
      break;
  }
  return subsetSource(source, spec.skip ?? 0, spec.limit ?? Infinity);
}

/** Detect (or parse) the spec of `path` and open its source. */
export async function openData(path: string, opts: OpenDataOptions): Promise<{ spec: DataSpec; source: DataSource }> {
  const spec = await detectDataSpec(opts.files, path);
  return { spec, source: await openDataSource(spec, opts) };
}
