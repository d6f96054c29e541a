import { type Feeds, type Model, type PassContextInit, type TrainingData } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { loadDataset } from '../data.js';
import { UsageError } from '../errors.js';

/** Flags shared by every command that runs passes. */
export interface RunFlags {
  data?: string;
  calibrationSamples: number;
  seed: number;
  backend: 'cpu' | 'webgpu';
  json?: boolean;
}

function inputOf(model: Model): { name: string; rank: number | undefined } {
  const i = model.graph.inputs.find((x) => !model.graph.initializers.has(x.name));
  if (!i) throw new UsageError('the model has no graph input to feed data to');
  return { name: i.name, rank: i.type?.kind === 'tensor' ? i.type.shape?.length : undefined };
}

/** Samples reshaped for the model's input rank ([N, 784] for a rank-2 input, else [N, 1, 28, 28]). */
function shapeFor(sampleShape: number[], rank: number | undefined): number[] {
  if (rank === 2) return [sampleShape.reduce((a, b) => a * b, 1)];
  return sampleShape;
}

/**
 * Pass-context data from `--data`: the training split as `training` (for passes that fine-tune)
 * and its first `calibrationSamples` images as `calibration` batches.
 */
export async function contextFor(model: Model, f: RunFlags): Promise<PassContextInit> {
  const init: PassContextInit = { seed: f.seed, backend: f.backend };
  if (!f.data) return init;
  const ds = await loadDataset(f.data);
  const { name, rank } = inputOf(model);
  const sampleShape = shapeFor(ds.train.sampleShape, rank);
  const training: TrainingData = { x: ds.train.x, labels: ds.train.labels, sampleShape, inputName: name };
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const n = Math.min(f.calibrationSamples, ds.train.labels.length);
  async function* calibration(): AsyncGenerator<Feeds> {
    for (let s = 0; s < n; s += 64) {
      const m = Math.min(64, n - s);
      yield { [name]: tensor(ds.train.x.slice(s * per, (s + m) * per), [m, ...sampleShape], 'float32', { backend: 'cpu' }) };
    }
  }
  // re-iterable: every pass of a chain (SmoothQuant then static int8) reads all the batches
  return { ...init, training, calibration: { [Symbol.asyncIterator]: calibration } };
}
