import { type BackendName, Rng } from '@whittle/tensor';
import { PassAbortedError } from '../errors.js';
import type { Feeds, Logger, PassContext, TrainingData } from './contract.js';
import type { ActivationRuntime, CalibrationRuntimeChoice } from './activations.js';

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** What callers may give when running passes; everything has a default. */
export interface PassContextInit {
  backend?: BackendName;
  calibration?: AsyncIterable<Feeds>;
  /** Runtime for calibration forward passes (e.g. onnxruntime in Node); default: the interpreter. */
  activationRuntime?: ActivationRuntime;
  /** Override which runtime calibrates (default 'auto'; env WHITTLE_CALIBRATION_RUNTIME in the CLI). */
  calibrationRuntime?: CalibrationRuntimeChoice;
  training?: TrainingData;
  resources?: Readonly<Record<string, unknown>>;
  logger?: Logger;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
  seed?: number;
}

/**
 * Build a full pass context: backend 'cpu', silent logger, no-op progress, a signal that never
 * aborts, seed 0 and an Rng seeded from it.
 */
export function createPassContext<O>(init: PassContextInit, options: O): PassContext<O> {
  const seed = init.seed ?? 0;
  return {
    backend: init.backend ?? 'cpu',
    calibration: init.calibration,
    activationRuntime: init.activationRuntime,
    calibrationRuntime: init.calibrationRuntime ?? 'auto',
    training: init.training,
    resources: init.resources,
    logger: init.logger ?? silentLogger,
    onProgress: init.onProgress ?? (() => {}),
    signal: init.signal ?? new AbortController().signal,
    seed,
    rng: new Rng(seed),
    options,
  };
}

/** Throw {@link PassAbortedError} when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason === undefined ? '' : String(signal.reason);
    throw new PassAbortedError(`${where}: aborted${reason ? ` (${reason})` : ''}`);
  }
}
