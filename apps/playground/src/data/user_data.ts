/**
 * Your own evaluation data: one .npy or ONNX TensorProto (.pb) file per model input, first
 * dimension = samples, matched to inputs by file name (`<input name>.npy`, `input_<i>.pb`, or
 * any name for a single-input model); an optional `labels.npy`/`labels.pb` holds class labels.
 */
import type { EvalDataset, DatasetInput } from '@whittle/eval';
import { readTensorProto } from '@whittle/onnx';
import type { IoInfo } from '../worker/protocol.js';
import { type NpyArray, readNpy } from './npy.js';

/** One parsed file. */
export interface DataFile {
  /** File name without extension. */
  base: string;
  array: NpyArray;
}

const LABEL_NAMES = new Set(['labels', 'label', 'y', 'targets']);

function fromPb(bytes: Uint8Array, file: string): NpyArray {
  const t = readTensorProto(bytes);
  if (!('storage' in t)) throw new Error(`${file}: element type ${t.dataType} is not supported for evaluation data`);
  const data = t.dataSync();
  const type = t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'int64' || t.dtype === 'uint8' || t.dtype === 'int8' || t.dtype === 'float16' || t.dtype === 'bool' ? t.dtype : undefined;
  if (!type) throw new Error(`${file}: element type ${t.dtype} is not supported for evaluation data`);
  return { data: data as NpyArray['data'], shape: [...t.shape], type };
}

/** Parse a .npy or .pb file. */
export async function readDataFile(file: File): Promise<DataFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const base = file.name.replace(/\.(npy|pb)$/i, '');
  if (/\.npy$/i.test(file.name)) return { base, array: readNpy(bytes) };
  if (/\.pb$/i.test(file.name)) return { base, array: fromPb(bytes, file.name) };
  throw new Error(`${file.name}: give .npy or .pb (ONNX TensorProto) files`);
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
