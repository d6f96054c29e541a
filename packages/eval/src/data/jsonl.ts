/**
 * JSON Lines text data: one sample per line, either an array of token ids (feeds the model's only
 * or first integer input) or an object mapping input names to (nested) arrays, with an optional
 * `label` field. Read line by line; samples of different lengths go to different batches.
 */
import type { DType } from '@whittle/tensor';
import { allocStorage } from '@whittle/tensor';
import { dtypeOfElemType } from './arrays.js';
import { DataError } from './errors.js';
import { type DataFiles, readLines } from './files.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';

/** Options of {@link jsonlSource}. */
export interface JsonlOptions {
  /** Input a bare array feeds (default: the model's first input of an integer type, else its first input). */
  input?: string | undefined;
  /** Field of an object line holding its label (default 'label'). */
  labelField?: string | undefined;
}

function flatten(v: unknown, shape: number[], out: number[], depth: number, where: string): void {
  if (Array.isArray(v)) {
    if (shape.length <= depth) shape.push(v.length);
    else if (shape[depth] !== v.length) throw new Error(`${where}: ragged array (length ${v.length} where ${shape[depth]} was expected at depth ${depth})`);
    for (const x of v) flatten(x, shape, out, depth + 1, where);
    return;
  }
  if (depth !== shape.length) throw new Error(`${where}: ragged array (a number at depth ${depth}, arrays of rank ${shape.length} elsewhere)`);
  if (typeof v === 'boolean') out.push(v ? 1 : 0);
  else if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  else throw new Error(`${where}: ${JSON.stringify(v)} is not a number`);
}

function toArray(v: unknown, dtype: DType, where: string): DataArray {
  const shape: number[] = [];
  const values: number[] = [];
  flatten(v, shape, values, 0, where);
  const isInt = dtype !== 'float32' && dtype !== 'float16' && dtype !== 'float64';
  if (isInt && values.some((x) => !Number.isInteger(x))) throw new Error(`${where}: input takes ${dtype}, the line holds fractions`);
  const data = allocStorage(dtype === 'float16' || dtype === 'float64' ? 'float32' : dtype, values.length);
  values.forEach((x, i) => {
    if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(x);
    else (data as Float32Array)[i] = x;
  });
  return { data, shape: [1, ...shape], dtype: dtype === 'float16' || dtype === 'float64' ? 'float32' : dtype };
}

/** A JSONL file as samples. */
export async function jsonlSource(files: DataFiles, path: string, inputs: readonly ModelInputSpec[], opts: JsonlOptions = {}): Promise<DataSource> {
  const labelField = opts.labelField ?? 'label';
  const isIntInput = (i: ModelInputSpec): boolean => /^u?int/.test(i.elemType ?? '');
  const bare = opts.input ?? (inputs.find(isIntInput) ?? inputs[0])?.name;
  const size = await files.size(path);
  if (size === 0) throw new DataError('the file is empty; write one JSON sample per line', { file: path });
  // one line first, to tell whether labels are there
  let hasLabels = false;
  for await (const [, line] of readLines(files, path)) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      hasLabels = typeof v === 'object' && v !== null && !Array.isArray(v) && labelField in v;
    } catch {
      /* reported with its line number when read */
    }
    break;
  }
  return {
    kind: 'jsonl',
    description: `JSON Lines samples from ${path}${hasLabels ? ` with labels ('${labelField}')` : ''}`,
    dataFree: false,
    hasLabels,
    async *chunks(): AsyncGenerator<DataChunk> {
      let sample = 0;
      for await (const [no, line] of readLines(files, path)) {
        if (!line.trim()) continue;
        const where = `line ${no}`;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch (e) {
          throw new DataError(`${where} is not JSON: ${(e as Error).message}`, { file: path, sample });
        }
        const arrays: Record<string, DataArray> = {};
        let label: number | undefined;
        try {
          if (Array.isArray(v)) {
            if (!bare) throw new Error(`${where}: the model has no input for a bare array`);
            const spec = inputs.find((i) => i.name === bare);
            arrays[bare] = toArray(v, dtypeOfElemType(spec?.elemType) ?? 'int64', where);
          } else if (typeof v === 'object' && v !== null) {
            for (const [k, x] of Object.entries(v)) {
              if (k === labelField) {
                if (typeof x !== 'number' || !Number.isInteger(x)) throw new Error(`${where}: label ${JSON.stringify(x)} is not an integer class index`);
                label = x;
                continue;
              }
              const spec = inputs.find((i) => i.name === k);
              if (inputs.length && !spec) throw new Error(`${where}: field '${k}' matches no model input (inputs: ${inputs.map((i) => i.name).join(', ')})`);
              arrays[k] = toArray(x, dtypeOfElemType(spec?.elemType) ?? (Array.isArray(x) && Array.isArray(x[0]) ? 'float32' : 'int64'), `${where}, field '${k}'`);
            }
          } else throw new Error(`${where}: give an array of token ids or an object of input name → array`);
        } catch (e) {
          if (e instanceof DataError) throw e;
          throw new DataError((e as Error).message, { file: path, sample });
        }
        const chunk: DataChunk = { inputs: arrays, count: 1, file: path, first: sample };
        if (hasLabels) {
          if (label === undefined) throw new DataError(`${where} has no '${labelField}' while the first line has one`, { file: path, sample });
          chunk.labels = Int32Array.of(label);
        }
        yield chunk;
        sample++;
      }
    },
  };
}
