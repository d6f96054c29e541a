/**
 * Your own evaluation data, read with @whittle/eval's data sources (the CLI's readers): one .npy or
 * ONNX TensorProto (.pb) file per model input, first dimension = samples, matched to inputs by
 * file name (`<input name>.npy`, `input_<i>.pb`, or any name for a single-input model), with an
 * optional `labels.npy`/`labels.pb`; or any other source `--data` takes — PNG/JPEG images or
 * .wav audio (a picked folder's class subfolders are labels), .csv/.tsv, .jsonl, .npz, a .txt with
 * its tokenizer.json, a .yaml data spec with the files it names.
 */
import { type DatasetInput, type EvalDataset, memoryFiles, openData, readTensorFile } from '@whittle/eval';
import { datasetFromSource, inputSpecs } from './source_dataset.js';
import type { IoInfo } from '../worker/protocol.js';
import { type NpyArray, readNpy, toNpyArray } from './npy.js';

/** One parsed file. */
export interface DataFile {
  /** File name without extension. */
  base: string;
  array: NpyArray;
}

const LABEL_NAMES = new Set(['labels', 'label', 'y', 'targets']);

async function fromPb(bytes: Uint8Array, file: string): Promise<NpyArray> {
  const { array } = await readTensorFile(memoryFiles({ [file]: bytes }), file);
  return toNpyArray(array, file);
}

/** Whether a picked file is one array per input (.npy / .pb) rather than a data source of its own. */
export function isArrayFile(name: string): boolean {
  return /\.(npy|pb)$/i.test(name);
}

/** Parse a .npy or .pb file. */
export async function readDataFile(file: File): Promise<DataFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const base = file.name.replace(/\.(npy|pb)$/i, '');
  if (/\.npy$/i.test(file.name)) return { base, array: readNpy(bytes, file.name) };
  if (/\.pb$/i.test(file.name)) return { base, array: await fromPb(bytes, file.name) };
  throw new Error(`${file.name}: give .npy or .pb (ONNX TensorProto) files`);
}

/** Where a picked file sits: its path inside a picked folder, else its name. */
function pathOf(file: File): string {
  return (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
}

/** The entry to open among picked files: a data spec, else the one data file, else the common folder (images, .wav, .txt). */
function entryOf(paths: readonly string[]): string {
  const spec = paths.filter((p) => /\.(ya?ml|json)$/i.test(p) && !/tokenizer(_config)?\.json$/i.test(p));
  if (spec.length === 1) return spec[0]!;
  const data = paths.filter((p) => /\.(csv|tsv|jsonl|ndjson|npz|txt|wav)$/i.test(p));
  if (data.length === 1) return data[0]!;
  const dirs = paths.map((p) => p.split('/').slice(0, -1));
  const common: string[] = [];
  for (let k = 0; dirs.every((d) => d.length > k && d[k] === dirs[0]![k]); k++) common.push(dirs[0]![k]!);
  return common.join('/');
}

/**
 * Read picked files with @whittle/eval's `openData` (what the CLI's `--data` opens) into a dataset
 * of at most `limit` samples (default 10,000).
 */
export async function datasetFromSourceFiles(files: readonly File[], inputs: readonly IoInfo[], limit = 10_000): Promise<{ dataset: EvalDataset; description: string; count: number }> {
  const byPath: Record<string, Uint8Array> = {};
  for (const f of files) byPath[pathOf(f)] = new Uint8Array(await f.arrayBuffer());
  const specs = inputSpecs(inputs);
  const { source } = await openData(entryOf(Object.keys(byPath)), { files: memoryFiles(byPath), inputs: specs });
  const { dataset, count } = await datasetFromSource(source, specs, limit);
  return { dataset, description: source.description, count };
}

function labelsOf(f: DataFile): Int32Array {
  if (f.array.shape.length !== 1) throw new Error(`${f.base}: labels must be 1-D, got shape [${f.array.shape.join(', ')}]`);
  return Int32Array.from(f.array.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Match files to the model's inputs and build the dataset (checked for consistent sample counts). */
export function datasetFromFiles(files: readonly DataFile[], inputs: readonly IoInfo[]): EvalDataset {
  const labelFiles = files.filter((f) => LABEL_NAMES.has(f.base.toLowerCase()));
  const rest = files.filter((f) => !labelFiles.includes(f));
  const ds: EvalDataset = { inputs: {} };
  for (const f of rest) {
    const byName = inputs.find((x) => x.name === f.base);
    const index = /^input_(\d+)$/.exec(f.base)?.[1];
    const byIndex = index !== undefined ? inputs[Number(index)] : undefined;
    const input = byName ?? byIndex ?? (inputs.length === 1 && rest.length === 1 ? inputs[0] : undefined);
    if (!input) throw new Error(`file '${f.base}' matches no model input (inputs: ${inputs.map((x) => x.name).join(', ')}); name it after the input or input_<i>`);
    if (f.array.shape.length < 1) throw new Error(`file '${f.base}' is a scalar; the first dimension must count samples`);
    const entry: DatasetInput = { data: f.array.data, sampleShape: f.array.shape.slice(1), type: f.array.type };
    ds.inputs[input.name] = entry;
  }
  const missing = inputs.filter((x) => !ds.inputs[x.name]);
  if (missing.length) throw new Error(`no data for input(s) ${missing.map((x) => `'${x.name}'`).join(', ')}`);
  if (labelFiles[0]) ds.labels = labelsOf(labelFiles[0]);
  return ds;
}
