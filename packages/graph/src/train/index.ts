/**
 * `@whittle/graph/train` — training ONNX graphs with `@whittle/tensor` autograd: GraphModule
 * (initializers as parameters), fit loops, data and augmentation, task losses, training on any
 * data, and the `fine-tune` pass.
 * @module
 */
export * from './graph_module.js';
export * from './fit.js';
export * from './data.js';
export * from './classifier.js';
export * from './augment.js';
export * from './random_affine.js';
export * from './training_data.js';
export * from './task_loss.js';
export { epochCount, lossLine } from './loss_line.js';
export { isSoftmaxOutput, probabilitiesAsLogits, rowsAreProbabilities } from './probability_output.js';
export * from './train_on_data.js';
export * from './finetune_pass.js';
