/** Sources over whole arrays whose first axis counts samples: `.npy` files and `.npz` archives. */
import { unzipSync } from 'fflate';
import { sliceRows } from './arrays.js';
import { DataError } from './errors.js';
import { type DataFiles, baseName } from './files.js';
import { matchArrays } from './match.js';
import { type NpyHeader, decodeNpyData, parseNpyHeader, readNpy } from './npy.js';
import { type DataArray, type DataChunk, type DataSource, type ModelInputSpec, sizeOfShape } from './source.js';

/** Reads rows [from, to) of one array. */
interface RowReader {
  rows: number;
  /** Element type of the rows as read. */
  dtype: DataArray['dtype'];
  rowBytes: number;
  file: string;
  read(from: number, to: number): Promise<DataArray>;
}

/** Target bytes per chunk when reading arrays row block by row block. */
const CHUNK_BYTES = 4 << 20;

function labelsOf(a: DataArray, file: string): Int32Array {
  if (a.shape.length !== 1 && !(a.shape.length === 2 && a.shape[1] === 1)) throw new DataError(`labels must be one integer per sample (shape [N]), got shape [${a.shape.join(', ')}]`, { file });
  const out = new Int32Array(a.shape[0]!);
  for (let i = 0; i < out.length; i++) {
    const v = Number(a.data[i]!);
    if (!Number.isInteger(v)) throw new DataError(`label ${v} is not an integer class index`, { file, sample: i });
    out[i] = v;
  }
  return out;
}

/** Whether a label array holds floats: then it is a regression target (chunk `targets.targets`), not class labels. */
function isFloatReader(r: RowReader): boolean {
  return r.dtype === 'float32' || r.dtype === 'float16' || r.dtype === 'float64';
}

function arraysSource(kind: 'npy' | 'npz', description: string, readers: Record<string, RowReader>, labels: RowReader | undefined): DataSource {
  const all = Object.entries(readers);
  const first = all[0];
  if (!first) throw new DataError('no arrays to read');
  const rows = first[1].rows;
  for (const [name, r] of all) {
    if (r.rows !== rows) throw new DataError(`input '${name}' has ${r.rows} sample(s), input '${first[0]}' has ${rows}; every array needs the same first dimension`, { file: r.file });
  }
  if (labels && labels.rows !== rows) throw new DataError(`${labels.rows} label(s) for ${rows} sample(s); give one label per sample`, { file: labels.file });
  const rowBytes = all.reduce((s, [, r]) => s + r.rowBytes, 0);
  const step = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, rowBytes)));
  return {
    kind,
    description,
    dataFree: false,
    hasLabels: labels !== undefined && !isFloatReader(labels),
    hasTargets: labels !== undefined && isFloatReader(labels),
    size: rows,
    async *chunks(): AsyncGenerator<DataChunk> {
      for (let s = 0; s < rows; s += step) {
        const e = Math.min(rows, s + step);
        const inputs: Record<string, DataArray> = {};
        for (const [name, r] of all) inputs[name] = await r.read(s, e);
        const chunk: DataChunk = { inputs, count: e - s, file: first[1].file, first: s };
        if (labels && isFloatReader(labels)) chunk.targets = { targets: await labels.read(s, e) };
        else if (labels) chunk.labels = labelsOf(await labels.read(s, e), labels.file);
        yield chunk;
      }
    },
  };
}

function checkSamples(shape: readonly number[], file: string): void {
  if (shape.length === 0) throw new DataError('the array is a scalar; its first dimension must count the samples', { file });
}

async function npyReader(files: DataFiles, path: string): Promise<RowReader> {
  const size = await files.size(path);
  let head = await files.readRange(path, 0, Math.min(size, 4096));
  let h: NpyHeader;
  try {
    h = parseNpyHeader(head, path);
  } catch (e) {
    if (size <= head.length) throw e;
    head = await files.read(path);
    h = parseNpyHeader(head, path);
  }
  checkSamples(h.shape, path);
  const per = sizeOfShape(h.shape.slice(1));
  const need = h.offset + sizeOfShape(h.shape) * h.width;
  if (size < need) throw new DataError(`.npy data is truncated: shape [${h.shape.join(', ')}] needs ${need} bytes, the file has ${size}`, { file: path });
  return {
    rows: h.shape[0]!,
    dtype: h.dtype,
    rowBytes: per * h.width,
    file: path,
    async read(from, to) {
      const bytes = await files.readRange(path, h.offset + from * per * h.width, (to - from) * per * h.width);
      return { data: decodeNpyData(h, bytes, (to - from) * per, path), shape: [to - from, ...h.shape.slice(1)], dtype: h.dtype };
    },
  };
}

function memoryReader(a: DataArray, file: string): RowReader {
  checkSamples(a.shape, file);
  return { rows: a.shape[0]!, dtype: a.dtype, rowBytes: (a.data.byteLength / Math.max(1, a.shape[0]!)) | 0, file, read: async (from, to) => sliceRows(a, from, to) };
}

/** Options of {@link npySource}. */
export interface NpySourceOptions {
  /** `.npy` path by model input name (e.g. one file for a single-input model). */
  inputs: Readonly<Record<string, string>>;
  /** `.npy` of integer class labels, one per sample. */
  labels?: string | undefined;
}

/**
 * `.npy` files, one per model input, first axis = samples; read row block by row block. An
 * integer label array gives class labels, a float one regression targets (named `targets`).
 */
export async function npySource(files: DataFiles, opts: NpySourceOptions): Promise<DataSource> {
  const readers: Record<string, RowReader> = {};
  for (const [input, path] of Object.entries(opts.inputs)) readers[input] = await npyReader(files, path);
  const labels = opts.labels !== undefined ? await npyReader(files, opts.labels) : undefined;
  const paths = Object.values(opts.inputs).map(baseName).join(', ');
  const n = Object.values(readers)[0]?.rows ?? 0;
  return arraysSource('npy', `${n} sample(s) from ${paths}${labels ? ` with ${isFloatReader(labels) ? 'targets' : 'labels'} from ${baseName(opts.labels!)}` : ''}`, readers, labels);
}

/** A folder of `.npy` files matched to inputs by name (`<input>.npy`, `input_<i>.npy`, `labels.npy`). */
export async function npyFolderSource(files: DataFiles, dir: string, inputs: readonly ModelInputSpec[], opts: { map?: Readonly<Record<string, string>> | undefined; labels?: string | undefined } = {}): Promise<DataSource> {
  const names = (await files.list(dir)).filter((e) => !e.dir && /\.npy$/i.test(e.name)).map((e) => e.name.replace(/\.npy$/i, ''));
  const m = matchArrays(names, inputs, dir, opts);
  const byInput: Record<string, string> = {};
  for (const [input, array] of Object.entries(m.inputs)) byInput[input] = `${dir}/${array}.npy`;
  return npySource(files, { inputs: byInput, labels: m.labels !== undefined ? `${dir}/${m.labels}.npy` : undefined });
}

/** Options of {@link npzSource}. */
export interface NpzSourceOptions {
  /** Model input name → array name in the archive, where names do not match by themselves. */
  map?: Readonly<Record<string, string>> | undefined;
  /** Array holding integer labels (default: one named labels/label/y/targets). */
  labels?: string | undefined;
}

/**
 * A `.npz` archive (numpy.savez / savez_compressed) with one array per model input, matched by
 * name (see {@link matchArrays}). Members are inflated once, when the source is opened; batches
 * are views into them.
 */
export async function npzSource(files: DataFiles, path: string, inputs: readonly ModelInputSpec[], opts: NpzSourceOptions = {}): Promise<DataSource> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(await files.read(path));
  } catch (e) {
    throw new DataError(`not a readable .npz (zip) archive: ${(e as Error).message}; save it with numpy.savez`, { file: path }, { cause: e });
  }
  const arrays = new Map<string, DataArray>();
  for (const [name, bytes] of Object.entries(members)) {
    if (!/\.npy$/i.test(name)) continue;
    arrays.set(name.replace(/\.npy$/i, ''), readNpy(bytes, `${path}:${name}`));
  }
  const m = matchArrays([...arrays.keys()], inputs, path, opts);
  const readers: Record<string, RowReader> = {};
  for (const [input, array] of Object.entries(m.inputs)) readers[input] = memoryReader(arrays.get(array)!, `${path}:${array}`);
  const labels = m.labels !== undefined ? memoryReader(arrays.get(m.labels)!, `${path}:${m.labels}`) : undefined;
  const n = Object.values(readers)[0]?.rows ?? 0;
  return arraysSource('npz', `${n} sample(s) from ${baseName(path)} (${Object.entries(m.inputs).map(([i, a]) => (i === a ? i : `${a}→${i}`)).join(', ')}${labels ? `, labels ${m.labels}` : ''})`, readers, labels);
}
