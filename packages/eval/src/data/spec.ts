/**
 * Data specs: a YAML/JSON file saying where the data is and how it feeds the model, and the
 * detection of the simple cases from a path alone.
 *
 * ```yaml
 * kind: images            # onnx-test-data | npy | npy-folder | npz | images | audio | csv | tsv | jsonl | text | synthetic
 * path: ./val             # relative to the spec file
 * input: pixel_values     # the model input it feeds (images, csv, jsonl)
 * preprocess: { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channels: rgb, layout: nchw }
 * labels: labels.csv      # npy: a .npy; npz: an array name; images: a labels file; csv: a column
 * skip: 0
 * limit: 500
 * ```
 *
 * Raw text is tokenized with a Hugging Face `tokenizer.json` into windows of token ids:
 *
 * ```yaml
 * kind: text
 * path: corpus.txt        # a UTF-8 file (or a folder of .txt files)
 * tokenizer: tokenizer.json
 * length: 128             # tokens per window
 * stride: 128             # tokens between window starts (< length: overlapping windows)
 * mode: pack              # pack: documents joined and cut; lines: one document per sample, padded
 * unit: line              # a document is a line, or a whole file (file: LM perplexity)
 * ```
 *
 * Audio: a `.wav` file or a folder of them (recursively; class subfolders give labels), decoded
 * to mono at `sampleRate` and cut into windows of samples:
 *
 * ```yaml
 * kind: audio
 * path: ./clips           # a .wav file or a folder of them
 * input: input            # the model input the samples feed (default: the one signal input)
 * sampleRate: 16000       # files are resampled to this rate (default 16000)
 * length: 512             # samples per window (default: the input's fixed length, else sampleRate)
 * stride: 512             # samples between window starts (default: length)
 * pad: false              # keep each file's last partial window, zero-padded (a file shorter than a window is always padded)
 * ```
 *
 * Synthetic (data-free) inputs from the model's input specs; dynamic dims are sized by name
 * (`dims`), image sides of rank-4 float image inputs by `imageDim` (default 224), the length of
 * a rank-2 float signal [batch, samples] by `signalDim` (default 512, doubled until the model's strided layers accept it), any other by `defaultDim`
 * (default 16); a dim named like a batch axis is 1 everywhere and a dim written as a sum
 * (`past_sequence_length + sequence_length`) is the sum of its terms. The source's description
 * lists the sizes chosen:
 *
 * ```yaml
 * kind: synthetic
 * synthetic: { count: 32, seed: 0, dims: { sequence: 64 }, imageDim: 320, defaultDim: 16, intHigh: 32000 }
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { npyFolderSource, npySource, npzSource } from './array_source.js';
import { DataError } from './errors.js';
import { type DataFiles, baseName, dirName, joinPath } from './files.js';
import type { ImagePreprocess } from './image.js';
import { imageFolderSource, listImages } from './image_folder.js';
import { jsonlSource } from './jsonl.js';
import { type AudioFeatureExtractor, OTHER_AUDIO, audioSource, holdsAudio } from './audio_folder.js';
import { onnxTestDataSource, testDataSets } from './onnx_test_data.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { type SyntheticOptions, syntheticSource } from './synthetic.js';
import { tabularSource } from './tabular.js';
import { type TextMode, type TextUnit, textSource } from './text.js';

/** Kinds a data spec may name. */
export const DATA_SPEC_KINDS = ['onnx-test-data', 'npy', 'npy-folder', 'npz', 'images', 'audio', 'csv', 'tsv', 'jsonl', 'text', 'synthetic'] as const;
export type DataSpecKind = (typeof DATA_SPEC_KINDS)[number];

/** A data spec (see the module comment for an example). */
export interface DataSpec {
  kind: DataSpecKind;
  /** File or folder (not for synthetic); relative paths are taken from the spec file's folder. */
  path?: string | undefined;
  /** The model input the data feeds (images, audio, csv/tsv, jsonl bare arrays, a single npy). */
  input?: string | undefined;
  /** Model input name → array name (npz, npy-folder) or .npy path (npy). */
  inputs?: Readonly<Record<string, string>> | undefined;
  /** Label source: .npy path (npy), array name (npz, npy-folder), labels file (images), column (csv), field (jsonl). */
  labels?: string | undefined;
  /** Class names in the model's output order (images, audio, csv with text labels). */
  classes?: readonly string[] | undefined;
  preprocess?: ImagePreprocess | undefined;
  /** csv/tsv: feature columns, delimiter, shape of one sample's features. */
  features?: readonly string[] | undefined;
  delimiter?: string | undefined;
  sampleShape?: readonly number[] | undefined;
  /** text: the Hugging Face `tokenizer.json` (default: `tokenizer.json` beside the text). */
  tokenizer?: string | undefined;
  /** text: its `tokenizer_config.json` (default: the one beside `tokenizer.json`, when there is one). */
  tokenizerConfig?: string | undefined;
  /** text: tokens per window (default: the model's fixed sequence length, else 128); audio: samples per window (default: the input's fixed length, else `sampleRate`). */
  length?: number | undefined;
  /** text: tokens, audio: samples between window starts (default: length). */
  stride?: number | undefined;
  /** audio: the rate (Hz) files are resampled to and a sample-rate input gets (default 16000). */
  sampleRate?: number | undefined;
  /** audio: keep each file's last partial window, zero-padded (default false). */
  pad?: boolean | undefined;
  /** text: 'pack' (default) or 'lines'. */
  mode?: TextMode | undefined;
  /** text: what a document is, 'line' (default) or 'file' (whole files, newlines kept). */
  unit?: TextUnit | undefined;
  /** text: add the tokenizer's special tokens to each document (default: true for lines, false for pack). */
  addSpecialTokens?: boolean | undefined;
  /** synthetic: count, seed, dims, imageDim, signalDim, defaultDim, distribution, intHigh, values (see {@link SyntheticOptions}). */
  synthetic?: SyntheticOptions | undefined;
  /** Skip this many samples first. */
  skip?: number | undefined;
  /** Use at most this many samples (after `skip`). */
  limit?: number | undefined;
}

const KEYS = new Set(['kind', 'path', 'input', 'inputs', 'labels', 'classes', 'preprocess', 'features', 'delimiter', 'sampleShape', 'tokenizer', 'tokenizerConfig', 'length', 'stride', 'sampleRate', 'pad', 'mode', 'unit', 'addSpecialTokens', 'synthetic', 'skip', 'limit']);

const PREPROCESS_KEYS = new Set(['resize', 'crop', 'scale', 'mean', 'std', 'channels', 'layout']);

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
  if (spec.tokenizer !== undefined) out.tokenizer = rel(spec.tokenizer);
  if (spec.tokenizerConfig !== undefined) out.tokenizerConfig = rel(spec.tokenizerConfig);
  if (spec.classes !== undefined) {
    // a comma-separated string would be split into characters further on
    if (!Array.isArray(spec.classes) || !spec.classes.every((c) => typeof c === 'string' || typeof c === 'number')) throw new DataError(`classes must be a list of class names in the model's output order (YAML: [cat, dog] or one '- name' per line), got ${JSON.stringify(spec.classes)}`, { file });
    out.classes = spec.classes.map(String);
  }
  if (spec.preprocess !== undefined) {
    if (typeof spec.preprocess !== 'object' || spec.preprocess === null || Array.isArray(spec.preprocess)) throw new DataError(`preprocess must be a mapping (${[...PREPROCESS_KEYS].join(', ')}), got ${JSON.stringify(spec.preprocess)}`, { file });
    const bad = Object.keys(spec.preprocess).filter((k) => !PREPROCESS_KEYS.has(k));
    if (bad.length) throw new DataError(`unknown preprocess key(s) ${bad.map((k) => `'${k}'`).join(', ')}; preprocess has ${[...PREPROCESS_KEYS].join(', ')}`, { file });
    for (const k of ['mean', 'std'] as const) {
      const x = (spec.preprocess as Record<string, unknown>)[k];
      if (x !== undefined && typeof x === 'number') out.preprocess = { ...out.preprocess, [k]: [x] };
      else if (x !== undefined && (!Array.isArray(x) || !x.every((n) => typeof n === 'number'))) throw new DataError(`preprocess.${k} must be a number or a list of numbers (one per channel), got ${JSON.stringify(x)}`, { file });
    }
  }
  if (spec.pad !== undefined && typeof spec.pad !== 'boolean') throw new DataError(`pad must be true or false, got ${JSON.stringify(spec.pad)}`, { file });
  for (const k of ['length', 'stride', 'sampleRate'] as const) {
    const x = spec[k];
    if (x !== undefined && (!Number.isInteger(x) || x < 1)) throw new DataError(`${k} must be a positive integer, got ${JSON.stringify(x)}`, { file });
  }
  return out;
}

/**
 * What a path holds, when it can be told: a data-spec file (.yaml/.yml/.json, parsed), a folder of
 * `test_data_set_*`, of `.npy` files, of images, of `.wav` files (in it or its subfolders) or of
 * `.txt` files with a `tokenizer.json`, a `.npy`, `.npz`, `.wav`, `.csv`, `.tsv`, `.jsonl` file, a
 * `.txt` file with a `tokenizer.json` beside it, or the word `synthetic`.
 */
export async function detectDataSpec(files: DataFiles, path: string): Promise<DataSpec> {
  const m = /^synthetic(?::(\d+))?$/.exec(path);
  if (m) return { kind: 'synthetic', ...(m[1] ? { synthetic: { count: Number(m[1]) } } : {}) };
  if (await files.isDir(path)) {
    if ((await testDataSets(files, path)).length) return { kind: 'onnx-test-data', path };
    const entries = await files.list(path);
    if (entries.some((e) => !e.dir && /\.npy$/i.test(e.name))) return { kind: 'npy-folder', path };
    if ((await listImages(files, path)).length) return { kind: 'images', path };
    // before .txt: speech corpora keep transcripts beside the audio
    if (await holdsAudio(files, path)) return { kind: 'audio', path };
    if (entries.some((e) => !e.dir && /\.txt$/i.test(e.name))) {
      if (!entries.some((e) => !e.dir && e.name === 'tokenizer.json')) throw new DataError('the folder holds .txt files but no tokenizer.json to tokenize them; put the tokenizer.json beside them or give a data spec (kind: text, tokenizer: …)', { file: path });
      return { kind: 'text', path, tokenizer: joinPath(path, 'tokenizer.json') };
    }
    const audio = entries.find((e) => !e.dir && OTHER_AUDIO.test(e.name));
    if (audio) throw new DataError(`${audio.name.split('.').pop()!.toUpperCase()} audio is not read, only WAV; convert the files to .wav (e.g. ffmpeg -i ${audio.name} -ar 16000 -ac 1 ${audio.name.replace(/\.[^.]+$/, '.wav')})`, { file: joinPath(path, audio.name) });
    throw new DataError('the folder holds no test_data_set_<N> folders, .npy files, PNG/JPEG images, .wav files or .txt files; give a data spec (.yaml) that says what it holds', { file: path });
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
    case 'wav':
      return { kind: 'audio', path };
    case 'csv':
      return { kind: 'csv', path };
    case 'tsv':
      return { kind: 'tsv', path };
    case 'jsonl':
    case 'ndjson':
      return { kind: 'jsonl', path };
    case 'txt':
    case 'text': {
      const tokenizer = joinPath(dirName(path), 'tokenizer.json');
      if (!(await exists(files, tokenizer))) throw new DataError(`raw text needs a tokenizer: put the model's tokenizer.json beside it (${tokenizer}) or give a data spec (kind: text, path: ${baseName(path)}, tokenizer: <path>)`, { file: path });
      return { kind: 'text', path, tokenizer };
    }
    default:
      if (OTHER_AUDIO.test(path)) throw new DataError(`${ext!.toUpperCase()} audio is not read, only WAV; convert it (e.g. ffmpeg -i ${baseName(path)} -ar 16000 -ac 1 ${baseName(path).replace(/\.[^.]+$/, '.wav')})`, { file: path });
      throw new DataError(`cannot tell what '${baseName(path)}' holds from its name; use .npy, .npz, .wav, .csv, .tsv, .jsonl, .txt (with a tokenizer.json beside it), a folder (test_data_set_*, .npy files, images, .wav files, .txt files) or a data spec (.yaml)`, { file: path });
  }
}

async function exists(files: DataFiles, path: string): Promise<boolean> {
  try {
    await files.size(path);
    return true;
  } catch {
    return false;
  }
}

/** The text source of a spec: its files, tokenizer (and config) read through `files`. */
async function openText(spec: DataSpec, files: DataFiles, inputs: readonly ModelInputSpec[], opts: OpenDataOptions): Promise<DataSource> {
  const path = spec.path ?? '';
  const paths = (await files.isDir(path)) ? (await files.list(path)).filter((e) => !e.dir && /\.txt$/i.test(e.name)).map((e) => joinPath(path, e.name)) : [path];
  if (!paths.length) throw new DataError('the folder holds no .txt files', { file: path });
  const tokPath = spec.tokenizer ?? joinPath((await files.isDir(path)) ? path : dirName(path), 'tokenizer.json');
  const cfgPath = spec.tokenizerConfig ?? joinPath(dirName(tokPath), 'tokenizer_config.json');
  const tokenizer = await files.read(tokPath);
  const tokenizerConfig = spec.tokenizerConfig !== undefined || (await exists(files, cfgPath)) ? await files.read(cfgPath) : undefined;
  return textSource(files, paths, inputs, { tokenizer, tokenizerConfig, length: spec.length, stride: spec.stride, mode: spec.mode, unit: opts.textUnit ?? spec.unit ?? opts.defaultTextUnit, addSpecialTokens: spec.addSpecialTokens, inputIds: spec.input }, tokPath);
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
  /** Text: the document unit, over the spec's `unit` (a user's explicit choice). */
  textUnit?: TextUnit | undefined;
  /** Text: the document unit where the spec names none (the task's default: 'file' for LM perplexity). */
  defaultTextUnit?: TextUnit | undefined;
  /**
   * Audio: the processor that turns a window of samples into the model's features (see
   * `AudioFeatureExtractor`), made only when the data is audio (loading one costs a processor).
   */
  audioFeatures?: (() => Promise<AudioFeatureExtractor | undefined>) | undefined;
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
    case 'audio':
      source = await audioSource(files, path, inputs, { input: spec.input, sampleRate: spec.sampleRate, length: spec.length, stride: spec.stride, pad: spec.pad, classes: spec.classes, features: await opts.audioFeatures?.() });
      break;
    case 'csv':
    case 'tsv':
      source = await tabularSource(files, path, inputs, { input: spec.input, features: spec.features, label: spec.labels, delimiter: spec.delimiter ?? (spec.kind === 'tsv' ? '\t' : undefined), sampleShape: spec.sampleShape, classes: spec.classes });
      break;
    case 'jsonl':
      source = await jsonlSource(files, path, inputs, { input: spec.input, labelField: spec.labels });
      break;
    case 'text':
      source = await openText(spec, files, inputs, opts);
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
