import { Adam, Rng, SGD } from '@whittle/tensor';
import { defineOptions } from '../passes/options.js';
import { definePass } from '../passes/contract.js';
import { throwIfAborted } from '../passes/context.js';
import { GraphModule, nothingToTrainReason } from './graph_module.js';
import { imageJitter } from './random_affine.js';
import { resolveTrainingData } from './training_data.js';
import { trainOnData } from './train_on_data.js';
import { epochCount, lossLine } from './loss_line.js';

/** Options of `fine-tune`. */
export const fineTuneOptions = defineOptions({
  epochs: { type: 'number', integer: true, min: 1, default: 5, description: 'training epochs' },
  lr: { type: 'number', min: 0, default: 1e-3, description: 'learning rate' },
  optimizer: { type: 'string', enum: ['adam', 'sgd'] as const, default: 'adam', description: 'optimizer (sgd: momentum 0.9)' },
  weightDecay: { type: 'number', min: 0, default: 0, description: 'L2 weight decay' },
  lrDecay: { type: 'number', min: 0, max: 1, default: 1, description: 'learning-rate factor applied after every epoch' },
  batchSize: { type: 'number', integer: true, min: 1, default: 32, description: 'batch size' },
  shift: { type: 'number', integer: true, min: 0, max: 8, default: 0, description: 'image data only: random shifts of up to this many pixels' },
  rotate: { type: 'number', min: 0, max: 180, default: 0, description: 'image data only: random rotations of up to this many degrees' },
  scale: { type: 'number', min: 0, max: 0.99, default: 0, description: 'image data only: random zoom in [1 - scale, 1 + scale]' },
});

/**
 * `fine-tune`: train every float weight of the model on `ctx.training` with the task's loss —
 * cross-entropy on any output (class axis configurable; labels per sample or per position),
 * next-token loss for language models (from `input_ids`, padding masked by `attention_mask`) or
 * MSE for regression. The model keeps its graph; only the weights change.
 */
export const fineTunePass = definePass({
  specificationVersion: 'v1',
  name: 'fine-tune',
  cli: { command: 'fine-tune' },
  description: 'Train the model\'s float weights on the training data (cross-entropy, next-token or MSE loss on any output).',
  optionsSchema: fineTuneOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const data = resolveTrainingData(ctx.training, model, { pass: 'fine-tune' });
    const untrainable = nothingToTrainReason(model);
    if (untrainable) return { model, report: { changed: false, summary: `nothing to train: ${untrainable}`, details: { reason: untrainable } } };
    const module = await GraphModule.create(model, { backend: ctx.backend });
    const params = module.parameterList();
    const optimizer = o.optimizer === 'sgd' ? new SGD(params, { lr: o.lr, momentum: 0.9, weightDecay: o.weightDecay }) : new Adam(params, { lr: o.lr, weightDecay: o.weightDecay });
    const augment = data.image ? imageJitter(o) : undefined;
    const history = await trainOnData(module, {
      data,
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer,
      rng: ctx.rng,
      backend: ctx.backend,
      augment,
      augmentRng: new Rng(ctx.seed + 0x5eed),
      callbacks: { onEpochEnd: () => void (optimizer.lr *= o.lrDecay) },
      onProgress: (f, m) => ctx.onProgress(f, m),
      signal: ctx.signal,
    });
    throwIfAborted(ctx.signal, 'fine-tune');
    const trained = await module.toModel();
    const parameters = module.parameterCount();
    optimizer.dispose();
    module.dispose();
    const losses = history.map((h) => h.loss);
    return {
      model: trained,
      report: {
        changed: true,
        summary: `fine-tuned ${parameters} weights for ${epochCount(o.epochs)} on ${data.count} samples (${data.task.loss} loss on '${data.task.output}'${data.task.probabilities ? ', Softmax probabilities read as log p' : ''}); ${lossLine(losses)}`,
        stats: { epochs: o.epochs, samples: data.count, parameters, firstLoss: losses[0] ?? NaN, finalLoss: losses[losses.length - 1] ?? NaN },
        details: { losses, loss: data.task.loss, output: data.task.output },
      },
    };
  },
});
