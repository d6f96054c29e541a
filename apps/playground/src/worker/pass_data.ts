import { type EvalDataset, type SampleData, datasetSize, maxBatchSize, sampleElementType, sliceBatch } from '@whittle/eval';
import type { Feeds, PassContextInit, TrainingData } from '@whittle/graph';
import { type DType, tensor } from '@whittle/tensor';
import type { PassData } from './protocol.js';

const CALIBRATION_BATCH = 64;

function dtypeOf(data: SampleData, declared: string | undefined): DType {
  return declared === 'float16' || declared === 'bool' ? declared : sampleElementType(data);
}

/** Feeds (cpu tensors) for samples [start, start + count). */
export function feedsOf(ds: EvalDataset, start: number, count: number): Feeds {
  const feeds: Feeds = {};
  for (const [name, f] of Object.entries(sliceBatch(ds, start, count))) feeds[name] = tensor(f.data, f.dims, dtypeOf(f.data, f.type), { backend: 'cpu' });
  return feeds;
}

/** The first `samples` samples as batches of feeds. */
export function feedBatches(ds: EvalDataset, samples: number): Feeds[] {
  const n = Math.min(samples, datasetSize(ds));
  const batch = maxBatchSize(ds, CALIBRATION_BATCH);
  const out: Feeds[] = [];
  for (let s = 0; s < n; s += batch) out.push(feedsOf(ds, s, Math.min(batch, n - s)));
  return out;
}

/**
 * Pass-context data: calibration batches (re-iterable, so every recipe step that calibrates
 * sees all of them) and, for a labeled single float input, training data for fine-tuning passes.
 */
export function passContextData(data: PassData | undefined): Pick<PassContextInit, 'calibration' | 'training'> {
  if (!data) return {};
  const ds = data.dataset;
  const n = Math.min(data.calibrationSamples ?? 256, datasetSize(ds));
  const calibration: AsyncIterable<Feeds> = {
    async *[Symbol.asyncIterator]() {
      const batch = maxBatchSize(ds, CALIBRATION_BATCH);
      for (let s = 0; s < n; s += batch) yield feedsOf(ds, s, Math.min(batch, n - s));
    },
  };
  const names = Object.keys(ds.inputs);
  const only = names.length === 1 ? ds.inputs[names[0]!]! : undefined;
  if (!only || only.wholeFeed || !(only.data instanceof Float32Array) || !ds.labels) return { calibration };
  const training: TrainingData = { x: only.data, labels: Int32Array.from(ds.labels), sampleShape: only.sampleShape, inputName: names[0]! };
  return { calibration, training };
}
