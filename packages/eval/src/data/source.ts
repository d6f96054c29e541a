/**
 * The data-source contract: every reader (ONNX test-data folders, .npy/.npz, image folders, WAV audio,
 * CSV/TSV, JSONL, raw text with a tokenizer, synthetic inputs) yields {@link DataChunk}s of samples; {@link batchesOf} turns a
 * source into batches of cpu tensors by model input name.
 */
import type { DType, StorageArray } from '@whittle/tensor';
import type { Dim, Model } from '@whittle/graph';
import { comparedConstants } from './compared_constants.js';
import { withMinimumDims } from './min_dims.js';

/** An n-d array as read from a file: row-major storage, shape, element type. */
export interface DataArray {
  data: StorageArray;
  shape: number[];
  dtype: DType;
}

/**
 * Consecutive samples read from one place. Every array's first axis counts the samples (`count`
 * rows); what a row is relative to the model input is settled by the batcher from the ranks: a
 * row of the model's rank minus one is one entry of the model's batch axis, a row of the model's
 * rank is a complete feed.
 */
export interface DataChunk {
  /** Arrays by model input name, each with `count` rows. */
  inputs: Record<string, DataArray>;
  /** Number of samples. */
  count: number;
  /** Class labels, one per sample. */
  labels?: Int32Array | undefined;
  /** Expected outputs by output name (e.g. `output_K.pb` of an ONNX test-data set), rows as inputs. */
  targets?: Record<string, DataArray> | undefined;
  /** Where the samples come from (a file, a folder), for messages. */
  file: string;
  /** Index of the first sample within the source. */
  first: number;
  /** Each row is a complete feed (e.g. an ONNX test-data set), whatever the model's ranks say. */
  rowsAreFeeds?: boolean | undefined;
}

/** Source kinds Whittle reads. */
export type DataSourceKind = 'onnx-test-data' | 'npy' | 'npz' | 'images' | 'audio' | 'csv' | 'jsonl' | 'text' | 'synthetic' | 'memory';

/**
 * A data set read lazily. `chunks()` starts over on every call (a recipe's every step reads the
 * full set) and reads at most one chunk ahead, so memory stays bounded by the chunk size.
 */
export interface DataSource {
  readonly kind: DataSourceKind;
  /** One line for reports and model cards, e.g. "12 images in 2 classes from data/". */
  readonly description: string;
  /** True for inputs made up without data (synthetic): reports label results "data-free". */
  readonly dataFree: boolean;
  /** Whether chunks carry labels. */
  readonly hasLabels: boolean;
  /** Samples carry float regression targets (`DataChunk.targets`) instead of class labels. */
  readonly hasTargets?: boolean | undefined;
  /** Number of samples when known before reading. */
  readonly size?: number | undefined;
  /** The samples from the start, chunk by chunk. */
  chunks(): AsyncIterable<DataChunk>;
}

/** What a reader needs to know about one model input. */
export interface ModelInputSpec {
  name: string;
  /** ONNX element type name ('float32', 'int64', …); unknown when absent. */
  elemType?: string | undefined;
  /** Dims; numbers are fixed, strings/null are filled from the data. Unknown rank when absent. */
  shape?: readonly Dim[] | undefined;
  /**
   * For a scalar integer input, the constants the graph compares it with (`Equal`), e.g. a sample
   * rate of 16000 or 8000: the values the model's branches are made for (see {@link comparedConstants}).
   */
  comparedWith?: readonly number[] | undefined;
  /**
   * Smallest size of a signal length or image side (axis → size) at which the model's shapes
   * stay positive, when the made-up default is smaller (strided convolutions reduce 512 audio
   * samples to nothing in some speech encoders); found by shape inference (`withMinimumDims`).
   */
  minDims?: Readonly<Record<number, number>> | undefined;
}

/** The model's graph inputs that are not initializers, as {@link ModelInputSpec}s (with `minDims` where the made-up defaults are too small). */
export function modelInputSpecs(model: Model): ModelInputSpec[] {
  const compared = comparedConstants(model);
  const specs = model.graph.inputs
    .filter((i) => !model.graph.initializers.has(i.name))
    .map((i) => {
      const t = i.type?.kind === 'tensor' ? i.type : undefined;
      const values = compared.get(i.name);
      return { name: i.name, elemType: t?.elemType, shape: t?.shape, ...(values ? { comparedWith: values } : {}) };
    });
  return withMinimumDims(model, specs);
}

/** Number of elements of a shape. */
export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
