import type { EvalDataset } from '@whittle/eval';
import type { Recipe } from '@whittle/graph';
import type { BackendInfo, ModelAnalysis, SensitivityReport, StepSummary, VariantEval } from '../worker/protocol.js';
import type { DemoAssets } from '../data/demo.js';
import type { OrtChoice } from '../worker/ort_choice.js';

/** The model the user opened. */
export interface LoadedModel {
  /** File name without `.onnx`. */
  name: string;
  bytes: Uint8Array;
  analysis: ModelAnalysis;
  /** Set for the bundled MNIST demo. */
  demo?: DemoAssets;
}

/** The original or one compressed result. */
export interface Variant {
  name: string;
  technique: string;
  bytes: Uint8Array;
  analysis: ModelAnalysis;
  recipe?: Recipe;
  steps?: StepSummary[];
  backend?: BackendInfo;
  eval?: VariantEval;
}

/** Evaluation data (same samples for every variant). */
export interface EvalData {
  /** Identifies the data, so cached reference outputs are reused only for the same samples. */
  key: string;
  label: string;
  dataset: EvalDataset;
  /** For the report: what the samples are. */
  info: { name: string; split?: string; count: number };
}

export interface AppState {
  model?: LoadedModel;
  /** variants[0] is the original. */
  variants: Variant[];
  /** Variant the downloads, the model card and the before/after chart refer to. */
  selected: number;
  sensitivity?: SensitivityReport;
  evalData?: EvalData;
  /** The original's outputs on evalData (key-matched). */
  reference?: { key: string; values: Float32Array };
  backend?: BackendInfo;
  /** What evaluated the variants (e.g. 'onnxruntime-web 1.30.0 (wasm, 1 thread)'). */
  runtime?: string;
  /** onnxruntime-web execution provider for forward passes: 'auto' (WebGPU on a hardware GPU, else wasm) or forced. */
  ortChoice: OrtChoice;
  sizeBasis: 'fileBytes' | 'gzipBytes';
  busy: boolean;
}

export type Topic = 'model' | 'variants' | 'evaluation' | 'sensitivity' | 'backend' | 'busy';

/** A tiny store: mutate `state`, then `emit` the topic so its views re-render. */
export class Store {
  readonly state: AppState = { variants: [], selected: 0, sizeBasis: 'fileBytes', busy: false, ortChoice: 'auto' };
  private readonly listeners = new Map<Topic, (() => void)[]>();

  on(topic: Topic, fn: () => void): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), fn]);
  }

  emit(...topics: Topic[]): void {
    for (const t of topics) for (const fn of this.listeners.get(t) ?? []) fn();
  }

  /** The selected variant (the original when nothing was compressed yet). */
  get selectedVariant(): Variant | undefined {
    return this.state.variants[this.state.selected] ?? this.state.variants[0];
  }
}
