import { type Optimizer, type Rng, type BackendName } from '@whittle/tensor';
import type { Augment } from './augment.js';
import { type EpochResult, type FitCallbacks, fit } from './fit.js';
import type { GraphModule } from './graph_module.js';
import { type ResolvedTrainingData, batchCount, trainingBatches } from './training_data.js';
import { taskLoss } from './task_loss.js';

/** Options of {@link trainOnData}. */
export interface TrainOnDataOptions {
  /** Samples, targets and task (see `resolveTrainingData`). */
  data: ResolvedTrainingData;
  epochs: number;
  batchSize: number;
  optimizer: Optimizer<unknown>;
  /** Shuffles the samples each epoch. */
  rng: Rng;
  backend?: BackendName | undefined;
  /** Image augmentation (applies only to image data), drawn from `augmentRng`. */
  augment?: Augment | undefined;
  augmentRng?: Rng | undefined;
  callbacks?: FitCallbacks | undefined;
  onProgress?: ((fraction: number, message: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Train a {@link GraphModule} on resolved training data with the task's loss (cross-entropy on
 * any output and label shape, next-token loss, MSE): the loop every training pass shares
 * (fine-tune, QAT, centroid fine-tuning, gradual pruning). Returns the per-epoch mean losses.
 */
export async function trainOnData(module: GraphModule, o: TrainOnDataOptions): Promise<EpochResult[]> {
  return fit(module, {
    epochs: o.epochs,
    batchesPerEpoch: batchCount(o.data, o.batchSize),
    data: () => trainingBatches(o.data, { batchSize: o.batchSize, rng: o.rng, backend: o.backend, augment: o.augment, augmentRng: o.augmentRng }),
    loss: (outputs, batch) => taskLoss(o.data.task, outputs, batch),
    optimizer: o.optimizer,
    ...(o.callbacks ? { callbacks: o.callbacks } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
