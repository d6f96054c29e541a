import type { Model, PassContextInit } from '@whittle/graph';
import { DataError, calibrationFrom, trainingDataFrom } from '@whittle/eval';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { noteNoTraining, openCliData, textUnitFor } from '../data.js';

/** Flags shared by every command that runs passes. */
export interface RunFlags {
  data?: string;
  calibrationSamples: number;
  seed: number;
  backend: 'cpu' | 'webgpu';
  json?: boolean;
  /** `--text-unit`: calibration reads raw text in the unit given, else a line a document. */
  textUnit?: string | undefined;
}

/**
 * Pass-context data from `--data <mnist|path|spec>`: the first `calibrationSamples` samples as
 * `calibration` (re-iterable: every pass of a chain, e.g. SmoothQuant then static int8, reads all
 * the batches from the start), and `training` when the data has labels and feeds one float input
 * (mnist: its training split).
 */
export async function contextFor(model: Model, f: RunFlags): Promise<PassContextInit> {
  const init: PassContextInit = { seed: f.seed, backend: f.backend };
  if (!f.data) return init;
  const d = await openCliData(f.data, model, 'train', textUnitFor(f.textUnit, false));
  const batches = calibrationFrom(d.source, { inputs: d.inputs, batchSize: 64, limit: f.calibrationSamples });
  let training = d.training;
  if (!training && d.source.hasLabels) {
    try {
      training = await trainingDataFrom(d.source, { inputs: d.inputs });
    } catch (e) {
      // calibration still works; a pass that trains says it has no training data
      if (!(e instanceof DataError)) throw e;
      noteNoTraining(f.data, e.message, true);
    }
  }
  let warned = d.source.kind !== 'synthetic';
  const calibration: NonNullable<PassContextInit['calibration']> = {
    [Symbol.asyncIterator]: () => {
      // said once, when a pass reads the batches (not for passes that never calibrate)
      if (!warned) warnSyntheticCalibration();
      warned = true;
      return batches[Symbol.asyncIterator]();
    },
  };
  return { ...init, ...(await calibrationRuntime()), ...(training ? { training } : {}), calibration };
}

/**
 * Calibrating passes compute activations in onnxruntime-node (loaded only when there is data);
 * WHITTLE_CALIBRATION_RUNTIME=interpreter|onnxruntime|auto overrides.
 */
export async function calibrationRuntime(): Promise<Pick<PassContextInit, 'activationRuntime' | 'calibrationRuntime'>> {
  const env = process.env.WHITTLE_CALIBRATION_RUNTIME ?? 'auto';
  if (env !== 'auto' && env !== 'interpreter' && env !== 'onnxruntime') throw new Error(`WHITTLE_CALIBRATION_RUNTIME must be auto, interpreter or onnxruntime, not '${env}'`);
  if (env === 'interpreter') return { calibrationRuntime: 'interpreter' };
  const ort = (await import('onnxruntime-node')) as unknown as OrtModuleLike;
  return { activationRuntime: ortActivationRuntime(ort), calibrationRuntime: env };
}

/**
 * Statistics from made-up inputs. Normal floats rarely look like what the model
 * sees (scaled tabular features, pixels, audio, token ids): ranges, activation-aware scales and
 * second-order updates fitted to them can move outputs far more than on real samples.
 */
function warnSyntheticCalibration(): void {
  process.stderr.write('warning: calibrating on synthetic inputs: ranges, scales and weight updates are fitted to made-up activations, which can differ a lot from real ones; give --data with a few hundred real samples (a .csv, .npy, image folder, .wav folder, .jsonl or data spec) for a faithful result\n');
}
