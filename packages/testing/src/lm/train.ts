import { type Model, GraphModule, resolveTrainingData, trainOnData } from '@whittle/graph';
import { Adam, ArgumentError, Rng, forceWasmSgemmVariant } from '@whittle/tensor';
import type { DecoderLmConfig } from './config.js';
import { buildDecoderLm } from './decoder.js';
import { lmTrainingData } from './windows.js';

/** How {@link trainDecoderLm} trains: model sizes, data order and the learning-rate schedule. */
export interface LmTrainRecipe {
  seed: number;
  layers: number;
  dModel: number;
  heads: number;
  /** Tokens per training window, also the model's position count. */
  context: number;
  batchSize: number;
  /** Windows drawn (seeded, without repeats) from all the corpus's windows: the training set. */
  windows: number;
  /** Passes over the windows. */
  epochs: number;
  /** Peak Adam learning rate: linear warm-up over `warmup` steps, then cosine decay to 10 %. */
  lr: number;
  warmup: number;
}

/** Outcome of {@link trainDecoderLm}. */
export interface LmTrainResult {
  model: Model;
  config: DecoderLmConfig;
  /** Mean training loss (nats per token) of each epoch. */
  losses: number[];
  steps: number;
  parameters: number;
}

/**
 * Build a decoder (seeded) and train it with Whittle's `trainOnData`/`fit` — the `lm` next-token
 * loss — on the cpu backend, on `r.windows` windows drawn by the seed (shuffled each epoch). MatMul runs the plain
 * SIMD kernel so the same recipe gives the same bytes on every CPU (see the MNIST zoo).
 */
export async function trainDecoderLm(r: LmTrainRecipe, vocab: number, allWindows: readonly (readonly number[])[], onProgress?: (fraction: number, message: string) => void): Promise<LmTrainResult> {
  if (r.windows > allWindows.length) throw new ArgumentError(`trainDecoderLm: the recipe draws ${r.windows} windows but the corpus gives ${allWindows.length} of ${r.context} tokens`);
  const order = Int32Array.from(allWindows.keys());
  new Rng(r.seed + 2).shuffle(order);
  const windows = Array.from(order.subarray(0, r.windows), (i) => allWindows[i]!);
  const { model, config } = buildDecoderLm({ seed: r.seed, layers: r.layers, dModel: r.dModel, heads: r.heads, vocab, maxPositions: r.context });
  const data = resolveTrainingData(lmTrainingData(config, windows), model, { pass: 'train-lm' });
  const module = await GraphModule.create(model, { backend: 'cpu' });
  const optimizer = new Adam(module.parameterList(), { lr: r.lr });
  const total = r.epochs * Math.ceil(windows.length / r.batchSize);
  const lrAt = (step: number): number =>
    step < r.warmup ? (r.lr * (step + 1)) / r.warmup : r.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (step - r.warmup)) / Math.max(1, total - r.warmup))));
  optimizer.lr = lrAt(0);
  const prev = forceWasmSgemmVariant('simd');
  try {
    const history = await trainOnData(module, {
      data, epochs: r.epochs, batchSize: r.batchSize, optimizer, rng: new Rng(r.seed + 1), backend: 'cpu',
      callbacks: { afterStep: (_m, info) => void (optimizer.lr = lrAt(info.step)) },
      ...(onProgress ? { onProgress } : {}),
    });
    return { model: await module.toModel(), config, losses: history.map((h) => h.loss), steps: total, parameters: module.parameterCount() };
  } finally {
    forceWasmSgemmVariant(prev);
    optimizer.dispose();
    module.dispose();
  }
}
