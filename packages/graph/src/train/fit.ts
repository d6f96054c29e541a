import { type Optimizer, type Tensor, ArgumentError, WhittleError, engine, add } from '@whittle/tensor';
import type { GraphModule } from './graph_module.js';

/** One training batch: graph feeds plus whatever the loss needs (targets, teacher outputs…). */
export interface Batch {
  readonly inputs: Readonly<Record<string, Tensor>>;
  readonly [key: string]: unknown;
}

/** Progress facts passed to callbacks. */
export interface StepInfo {
  epoch: number;
  batch: number;
  batches: number | undefined;
  step: number;
}

/** Callbacks of {@link fit}; any may be async. */
export interface FitCallbacks {
  /** After each optimizer step (e.g. re-apply pruning masks, clamp, schedule the learning rate). */
  afterStep?(module: GraphModule, info: StepInfo): void | Promise<void>;
  onEpochEnd?(info: EpochResult, module: GraphModule): void | Promise<void>;
}

/** Options of {@link fit}. */
export interface FitOptions {
  epochs: number;
  /** The batches of one epoch (called once per epoch so shuffling can differ). */
  data: (epoch: number) => Iterable<Batch> | AsyncIterable<Batch>;
  /** Batches per epoch, if known (for progress). */
  batchesPerEpoch?: number;
  /** Scalar loss from the graph outputs and the batch. */
  loss: (outputs: Map<string, Tensor>, batch: Batch) => Tensor;
  optimizer: Optimizer<unknown>;
  /** Intermediate values to compute besides the graph outputs (e.g. features for a loss). */
  fetch?: readonly string[];
  callbacks?: FitCallbacks;
  /** Progress in [0, 1] with a short message. */
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
  /**
   * Stop with a {@link TrainingDivergedError} when an epoch's mean loss is not finite or has
   * risen more than 100-fold (and by more than 1) above the first batch's loss before any update
   * (default true): a learning rate far too high, not a model to write. `false` trains on anyway.
   */
  stopOnDivergence?: boolean;
}

/** Per-epoch outcome. */
export interface EpochResult {
  epoch: number;
  /** Mean loss over the epoch's batches. */
  loss: number;
  batches: number;
  seconds: number;
}

/** Training diverged: the loss became non-finite or rose far above where it started. */
export class TrainingDivergedError extends WhittleError {
  constructor(message: string) {
    super('E_DIVERGED', message);
  }
}

/** Training was aborted through the AbortSignal. */
export class TrainingAbortedError extends WhittleError {
  constructor(message: string) {
    super('E_ABORTED', message);
  }
}

/**
 * Train a {@link GraphModule}: for each epoch and batch, forward with autograd, loss, backward,
 * optimizer step, callbacks. Returns the per-epoch mean losses.
 */
export async function fit(module: GraphModule, opts: FitOptions): Promise<EpochResult[]> {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new ArgumentError(`fit: epochs must be a non-negative integer, got ${opts.epochs}`);
  const history: EpochResult[] = [];
  let step = 0;
  let lastYield = performance.now();
  // the loss of the untrained weights on the first batch: where divergence is measured from
  let initialLoss: number | undefined;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const start = performance.now();
    let total: Tensor | null = null;
    let count = 0;
    for await (const batch of opts.data(epoch)) {
      if (opts.signal?.aborted) throw new TrainingAbortedError(`fit: aborted in epoch ${epoch + 1} after ${count} batches`);
      opts.optimizer.zeroGrad();
      const outputs = await module.forward(batch.inputs, opts.fetch ?? []);
      const loss = opts.loss(outputs, batch);
      if (loss.size !== 1) throw new ArgumentError(`fit: the loss must be a scalar, got shape [${loss.shape.join(',')}]`);
      if (initialLoss === undefined && opts.stopOnDivergence !== false) initialLoss = await loss.item();
      loss.backward();
      opts.optimizer.step();
      // keep the running sum on the backend; read once per epoch (GPU readbacks are slow)
      const l = loss.detach();
      total = engine().noGrad(() => (total ? add(total, l) : l));
      count++;
      step++;
      const info: StepInfo = { epoch, batch: count - 1, batches: opts.batchesPerEpoch, step };
      await opts.callbacks?.afterStep?.(module, info);
      // GPU buffers of dropped activations are released by finalization callbacks, which only
      // run as macrotasks; a loop of resolved awaits would starve them and hold every batch.
      // On cpu, yield to the event loop every ~100 ms anyway so an abort posted to a worker
      // (or a timer) gets a chance to run between batches.
      const now = performance.now();
      if (module.backend !== 'cpu' || now - lastYield > 100) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = performance.now();
      }
      if (opts.onProgress && opts.batchesPerEpoch) {
        opts.onProgress((epoch + count / opts.batchesPerEpoch) / opts.epochs, `epoch ${epoch + 1}/${opts.epochs} batch ${count}/${opts.batchesPerEpoch}`);
      }
    }
    const mean = total ? (await total.item()) / count : NaN;
    if (opts.stopOnDivergence !== false && count > 0) checkDivergence(mean, initialLoss, epoch);
    const result: EpochResult = { epoch, loss: mean, batches: count, seconds: (performance.now() - start) / 1000 };
    history.push(result);
    opts.onProgress?.((epoch + 1) / opts.epochs, `epoch ${epoch + 1}/${opts.epochs} loss ${mean.toFixed(4)}`);
    await opts.callbacks?.onEpochEnd?.(result, module);
  }
  return history;
}

function checkDivergence(mean: number, initial: number | undefined, epoch: number): void {
  const where = `in epoch ${epoch + 1}`;
  if (!Number.isFinite(mean)) throw new TrainingDivergedError(`fit: the mean loss became ${mean} ${where}${initial !== undefined ? ` (first batch before any update: ${initial.toPrecision(4)})` : ''}: training diverged; lower the learning rate`);
  if (initial !== undefined && Number.isFinite(initial) && initial >= 0 && mean > 100 * initial && mean - initial > 1) {
    throw new TrainingDivergedError(`fit: the mean loss rose to ${mean.toPrecision(4)} ${where} from ${initial.toPrecision(4)} on the first batch before any update: training diverged; lower the learning rate`);
  }
}
