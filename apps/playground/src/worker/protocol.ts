/**
 * Messages between the page and the compression worker. Everything here is structured-clone
 * friendly (plain objects and typed arrays); the worker is stateless between jobs, so a worker
 * terminated on cancel can be replaced without losing anything.
 */
import type { EvalDataset, FidelityMetrics, SizeMetrics } from '@whittle/eval';
import type { Histogram } from '../analysis/histogram.js';
import type { Recipe } from '@whittle/graph';
import type { OrtChoice, OrtPick } from './ort_choice.js';

/** Which tensor backend to compute on: 'auto' picks WebGPU when there is an adapter. */
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

/** The backend a job ran on, as the tensor engine reports it. */
export interface BackendInfo {
  name: 'cpu' | 'webgpu';
  /** WebGPU adapter description (webgpu only). */
  adapter?: string;
  /** Why WebGPU is not in use (cpu only). */
  note?: string;
}

/** A graph input or output. */
export interface IoInfo {
  name: string;
  elemType: string;
  /** Dims (numbers, symbolic names, or null when unknown); null when the rank is unknown. */
  shape: (number | string | null)[] | null;
  /** Constants the graph compares this input with (a sample rate: 16000, 8000), for synthetic inputs the model's branches accept. */
  comparedWith?: number[];
  /** Smallest signal length / image side (axis → size) the model's strided layers accept, when the made-up default is smaller. */
  minDims?: Record<number, number>;
}

/** One layer: a compute node with the weights it reads (directly or through constant nodes such as DequantizeLinear). */
export interface LayerStat {
  name: string;
  opType: string;
  parameters: number;
  bytes: number;
  /** gzip size of the layer's weight bytes (gzipSize of @whittle/tensor, level 6, as @whittle/eval measures files); not measured on models above LAYER_GZIP_LIMIT. */
  gzipBytes?: number;
  flops: number;
}

/** Histogram of a layer's effective weights (dequantized where the graph dequantizes). */
export interface WeightHistogram extends Histogram {
  layer: string;
  shape: number[];
  /** Set when the values are integer codes rather than real weights (e.g. MatMulInteger). */
  note?: string;
}

/** Summary histogram of every layer of one op type (see mergeHistograms). */
export interface OpHistogram extends Histogram {
  opType: string;
  /** Layers it summarizes. */
  layers: number;
}

/** What the page shows about a model. */
export interface ModelAnalysis {
  fileBytes: number;
  nodes: number;
  ops: Record<string, number>;
  parameters: number;
  bytes: number;
  byDtype: Record<string, { tensors: number; parameters: number; bytes: number }>;
  flops: number;
  opsets: string[];
  inputs: IoInfo[];
  outputs: IoInfo[];
  layers: LayerStat[];
  histograms: WeightHistogram[];
  /** One summary histogram per op type (real-valued weights only). */
  opHistograms: OpHistogram[];
  /** How the per-layer gzip sizes were measured (fflate at the shared level 6, or native zlib for big models), or 'skipped' above LAYER_GZIP_LIMIT. */
  gzipMethod: 'fflate' | 'native' | 'skipped';
  /** The file's size metrics (@whittle/eval's measureSize, or its native-gzip equivalent for big files). */
  size: SizeMetrics;
  /** How `size.gzipBytes` was measured. */
  fileGzipMethod: 'fflate' | 'native';
  /** Layers whose weights could not be histogrammed, with the reason. */
  skippedHistograms: { layer: string; reason: string }[];
}

/** Data passes may use: calibration batches from `dataset`, and training data when it is labeled. */
export interface PassData {
  dataset: EvalDataset;
  /** Samples used for calibration (default 256). */
  calibrationSamples?: number;
}

/** One executed recipe step, as the page shows it. */
export interface StepSummary {
  step: number;
  pass: string;
  options: Record<string, unknown>;
  summary: string;
  warnings: string[];
  /** Whether the step changed the model (a pass that finds nothing to do does not). */
  changed: boolean;
  durationMs: number;
}

export interface CompressResult {
  bytes: Uint8Array;
  steps: StepSummary[];
  backend: BackendInfo;
  durationMs: number;
}

/** Per-layer sensitivity: top-1 agreement with the dense model when only that layer is pruned. */
export interface SensitivityReport {
  levels: number[];
  layers: { node: string; points: { sparsity: number; metric: number; relativeError?: number }[] }[];
  /** Samples the agreement was measured on. */
  samples: number;
  /** Prunable layers of the model (more than `layers` when a sample of them was measured). */
  totalLayers: number;
  /** Where the forward passes ran. */
  backend: BackendInfo;
  /** What ran them, e.g. 'onnxruntime-web 1.30.0 (wasm, 1 thread)'. */
  runtime: string;
}

/** Measurements of one variant in onnxruntime-web. */
export interface VariantEval {
  name: string;
  size: SizeMetrics;
  accuracy?: number;
  fidelity?: FidelityMetrics;
  samples: number;
  /** How gzipBytes was measured (fflate at the shared level 6, or native zlib for big files). */
  gzipMethod?: 'fflate' | 'native';
  /** onnxruntime-web session creation and forward-pass time (for time estimates). */
  timing?: { createMs: number; runMs: number; samples: number };
  /** Why onnxruntime-web could not run the variant (size is still measured). */
  error?: string;
}

export interface EvaluateResult {
  results: VariantEval[];
  /** The reference logits (the first variant's, unless a reference was given). */
  reference: Float32Array;
  classes: number;
  runtime: string;
}

/** A model opened from files in the worker. */
export interface LoadResult {
  /** File name without `.onnx`. */
  name: string;
  /** The model with any external data inline. */
  bytes: Uint8Array;
  analysis: ModelAnalysis;
  /** External data files that were read into it. */
  externalFiles: string[];
}

export type Job =
  | { kind: 'probe'; backend: BackendChoice }
  | { kind: 'load'; files: File[] }
  | { kind: 'analyze'; model: Uint8Array }
  | { kind: 'compress'; model: Uint8Array; recipe: Recipe; seed: number; backend: BackendChoice; data?: PassData }
  | { kind: 'sensitivity'; model: Uint8Array; levels: number[]; samples: number; maxLayers?: number; batchSize: number; data: PassData; ort?: OrtChoice }
  | { kind: 'evaluate'; variants: { name: string; bytes: Uint8Array; size?: SizeMetrics; gzipMethod?: 'fflate' | 'native' }[]; data: EvalDataset; batchSize: number; reference?: Float32Array; ort?: OrtChoice }
  | { kind: 'ort-probe'; ort: OrtChoice };

export type JobKind = Job['kind'];

/** Result type of each job kind. */
export interface JobResults {
  probe: BackendInfo;
  load: LoadResult;
  analyze: ModelAnalysis;
  compress: CompressResult;
  sensitivity: SensitivityReport;
  evaluate: EvaluateResult;
  'ort-probe': OrtRuntimeInfo;
}

/** The onnxruntime-web execution provider the forward passes use, why, and the runtime's name. */
export interface OrtRuntimeInfo extends OrtPick {
  label: string;
}

export type ToWorker = { type: 'run'; id: number; job: Job } | { type: 'cancel'; id: number };

/** A failure, flattened for postMessage. */
export interface JobFailure {
  name: string;
  message: string;
  code?: string;
}

export type FromWorker =
  | { type: 'progress'; id: number; fraction: number; message?: string }
  | { type: 'done'; id: number; result: JobResults[JobKind] }
  | { type: 'failed'; id: number; error: JobFailure; cancelled: boolean };
