/**
 * ONNX test-data folders as the ONNX model zoo and onnx backend tests ship them:
 * `test_data_set_<N>/input_<K>.pb` (TensorProto; input K feeds the model's K-th input) and
 * `output_<K>.pb` (expected outputs, kept as targets named `output_<K>`).
 */
import type { DType } from '@whittle/tensor';
import { readTensorProto } from '@whittle/onnx';
import { DataError } from './errors.js';
import { type DataFiles, joinPath } from './files.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';

const SET = /^test_data_set_(\d+)$/;

/** Read one TensorProto file as a {@link DataArray}. */
export async function readTensorFile(files: DataFiles, path: string): Promise<{ name: string; array: DataArray }> {
  const bytes = await files.read(path);
  let t: ReturnType<typeof readTensorProto>;
  try {
    t = readTensorProto(bytes);
  } catch (e) {
    throw new DataError(`not a readable ONNX TensorProto: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  if (!('dataSync' in t)) throw new DataError(`element type ${(t as { dataType?: string }).dataType ?? 'of this tensor'} cannot be fed; write float, integer or bool tensors`, { file: path });
  return { name: (t as { name?: string }).name ?? '', array: { data: t.dataSync(), shape: [...t.shape], dtype: t.dtype as DType } };
}

function indexed(names: readonly string[], prefix: string): string[] {
  const re = new RegExp(`^${prefix}_(\\d+)\\.pb$`);
  return names.filter((n) => re.test(n)).sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1]));
}

/** The `test_data_set_<N>` folders of `dir`, in numeric order ([dir] itself when it is one). */
export async function testDataSets(files: DataFiles, dir: string): Promise<string[]> {
  const base = dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  if (SET.test(base)) return [dir];
  const sets = (await files.list(dir)).filter((e) => e.dir && SET.test(e.name)).sort((a, b) => Number(SET.exec(a.name)![1]) - Number(SET.exec(b.name)![1]));
  return sets.map((e) => joinPath(dir, e.name));
}

/** An ONNX test-data folder (or one `test_data_set_N`): one sample per set, each a complete feed. */
export async function onnxTestDataSource(files: DataFiles, dir: string, inputs: readonly ModelInputSpec[]): Promise<DataSource> {
  const sets = await testDataSets(files, dir);
  if (!sets.length) throw new DataError('no test_data_set_<N> folders here; an ONNX test-data folder holds test_data_set_0/input_0.pb, …', { file: dir });
  return {
    kind: 'onnx-test-data',
    description: `${sets.length} ONNX test-data set(s) from ${dir}`,
    dataFree: false,
    hasLabels: false,
    size: sets.length,
    async *chunks(): AsyncGenerator<DataChunk> {
      for (let s = 0; s < sets.length; s++) {
        const set = sets[s]!;
        const names = (await files.list(set)).map((e) => e.name);
        const ins = indexed(names, 'input');
        if (!ins.length) throw new DataError('no input_<K>.pb files', { file: set, sample: s });
        if (ins.length > inputs.length && inputs.length) throw new DataError(`${ins.length} input file(s) for a model with ${inputs.length} input(s) (${inputs.map((i) => i.name).join(', ')})`, { file: set, sample: s });
        const arrays: Record<string, DataArray> = {};
        for (let k = 0; k < ins.length; k++) {
          const path = joinPath(set, ins[k]!);
          const { name, array } = await readTensorFile(files, path);
          const input = inputs.find((i) => i.name === name)?.name ?? inputs[Number(/\d+/.exec(ins[k]!)![0])]?.name ?? (name || `input_${k}`);
          if (arrays[input]) throw new DataError(`two files feed input '${input}'`, { file: path, sample: s });
          arrays[input] = { ...array, shape: [1, ...array.shape] };
        }
        const targets: Record<string, DataArray> = {};
        for (const o of indexed(names, 'output')) {
          const { name, array } = await readTensorFile(files, joinPath(set, o));
          targets[name || o.replace(/\.pb$/, '')] = { ...array, shape: [1, ...array.shape] };
        }
        const chunk: DataChunk = { inputs: arrays, count: 1, file: set, first: s, rowsAreFeeds: true };
        if (Object.keys(targets).length) chunk.targets = targets;
        yield chunk;
      }
    },
  };
}
