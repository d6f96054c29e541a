import { type Tensor, ShapeError, crossEntropy, klDivergence, mseLoss, mul, mulScalar, reshape, slice, sum, transpose } from '@whittle/tensor';
import type { ResolvedTask } from './training_data.js';
import type { Batch } from './fit.js';
import { probabilitiesAsLogits, rowsAreProbabilities } from './probability_output.js';

/** `x` with `axis` moved to the end (no-op when it is last). */
function classLast(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank) throw new ShapeError(`class axis ${axis} is out of range for an output of shape [${x.shape.join(', ')}]`);
  if (a === x.rank - 1) return x;
  const perm = [...Array(x.rank).keys()].filter((k) => k !== a);
  return transpose(x, [...perm, a]);
}

/**
 * Cross-entropy of logits of any shape against integer labels shaped like the logits without the
 * class axis (one label per sample, per position, per pixel…), weighted by `weights` (0 drops a
 * label) and averaged over `weightSum` labels. Differentiable in `logits`.
 */
export function maskedCrossEntropy(logits: Tensor, labels: Tensor, weights: Tensor, weightSum: number, classAxis = -1): Tensor {
  const z = classLast(logits, classAxis);
  const c = z.shape[z.rank - 1]!;
  const want = z.shape.slice(0, -1);
  if (labels.size !== want.reduce((a, b) => a * b, 1)) {
    throw new ShapeError(`cross-entropy: the output has shape [${logits.shape.join(', ')}] (classes on axis ${classAxis}), so labels must be [${want.join(', ')}], got [${labels.shape.join(', ')}]; set the class axis or pick the output with --loss-output`);
  }
  const m = labels.size;
  const per = crossEntropy(reshape(z, [m, c]), reshape(labels, [m]), { reduction: 'none' });
  return mulScalar(sum(mul(per, reshape(weights, [m]))), 1 / Math.max(1, weightSum));
}

/**
 * Next-token loss of a language model: logits `[B, S, V]` (vocabulary on `classAxis`) at
 * positions `0..S-2` against the batch's shifted token labels `[B, S-1]` (padding weighted 0).
 */
export function nextTokenLoss(logits: Tensor, labels: Tensor, weights: Tensor, weightSum: number, classAxis = -1): Tensor {
  const z = classLast(logits, classAxis);
  if (z.rank !== 3) throw new ShapeError(`next-token loss: the output must be [batch, sequence, vocabulary], got [${logits.shape.join(', ')}]`);
  const s = z.shape[1]!;
  if (labels.shape[1] !== s - 1) throw new ShapeError(`next-token loss: the output covers ${s} positions but the tokens give ${labels.shape[1]! + 1}; the logits output must have one position per input token`);
  return maskedCrossEntropy(slice(z, [0], [s - 1], [1]), labels, weights, weightSum, -1);
}

/**
 * Integer labels (or next-token ids) must index the classes of the output the loss reads: a label
 * past them (token ids scored by a hidden-state output, labels of another head) would fail deep in
 * the loss's gather, naming no output. The batch carries its label range (see `trainingBatches`).
 */
function checkLabelRange(task: ResolvedTask, out: Tensor, batch: Batch): void {
  const lo = batch['minLabel'];
  const hi = batch['maxLabel'];
  if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isFinite(hi)) return;
  const axis = task.classAxis < 0 ? task.classAxis + out.rank : task.classAxis;
  const classes = out.shape[axis];
  if (classes === undefined || (lo >= 0 && hi < classes)) return;
  const what = task.loss === 'lm' ? 'next-token loss: the token ids' : 'cross-entropy: the labels';
  const range = lo < 0 ? `include ${lo}` : `go up to ${hi}`;
  const fix = task.loss === 'lm'
    ? "the next-token loss needs the model's vocabulary logits [batch, sequence, vocabulary]: pick that output with --loss-output, or give labeled data (ce) or float targets (mse) instead of bare token ids"
    : 'labels must be class indices in [0, classes): pick the output that scores them with --loss-output or set --class-axis';
  throw new ShapeError(`${what} ${range}, but the output '${task.output}' [${out.shape.join(', ')}] scores ${classes} classes on axis ${axis}; ${fix}`);
}

/**
 * The loss of a training task on one batch: `ce` / `lm` from the batch's integer `targets`,
 * `weights` and `weightSum` (see `trainingBatches`), `mse` against float targets reshaped to the
 * output, `kl` to `teacher` (same shape as the output) with temperature `T` (scaled by T²).
 */
export function taskLoss(task: ResolvedTask, outputs: ReadonlyMap<string, Tensor>, batch: Batch, teacher?: Tensor, temperature = 1): Tensor {
  const produced = outputs.get(task.output);
  if (!produced) throw new ShapeError(`the graph produced no output '${task.output}'`);
  // a Softmax output's probabilities: log(p) are its logits up to a constant per row
  const out = task.probabilities && (task.loss === 'ce' || task.loss === 'kl' || task.loss === 'lm') ? probabilitiesAsLogits(produced) : produced;
  const targets = batch['targets'] as Tensor | undefined;
  switch (task.loss) {
    case 'ce':
      checkLabelRange(task, out, batch);
      return maskedCrossEntropy(out, targets!, batch['weights'] as Tensor, batch['weightSum'] as number, task.classAxis);
    case 'lm':
      checkLabelRange(task, out, batch);
      return nextTokenLoss(out, targets!, batch['weights'] as Tensor, batch['weightSum'] as number, task.classAxis);
    case 'mse': {
      if (!targets || targets.size !== out.size) throw new ShapeError(`mse: the output '${task.output}' has shape [${out.shape.join(', ')}] but the targets are [${targets?.shape.join(', ') ?? 'none'}]; give one target value per output value`);
      return mseLoss(out, targets.rank === out.rank ? targets : reshape(targets, out.shape));
    }
    case 'kl': {
      if (!teacher) throw new ShapeError('kl: needs the teacher\'s outputs');
      if (teacher.size !== out.size) throw new ShapeError(`kl: the student's output '${task.output}' has shape [${out.shape.join(', ')}], the teacher's [${teacher.shape.join(', ')}]; both must score the same classes`);
      let t = teacher.rank === out.rank ? teacher : reshape(teacher, out.shape);
      // a teacher that outputs probabilities (its own Softmax) gives log(p) as logits too
      const tl = classLast(t, task.classAxis);
      if (t.backend === 'cpu' && rowsAreProbabilities(tl.dataSync() as Float32Array, tl.shape[tl.rank - 1]!)) t = probabilitiesAsLogits(t);
      return mulScalar(klDivergence(classLast(out, task.classAxis), classLast(t, task.classAxis), { temperature }), temperature * temperature);
    }
  }
}

/** Mean squared error to the teacher's outputs (distillation of regression heads or features). */
export function teacherMse(out: Tensor, teacher: Tensor): Tensor {
  if (teacher.size !== out.size) throw new ShapeError(`mse: the student's output has shape [${out.shape.join(', ')}], the teacher's [${teacher.shape.join(', ')}]`);
  return mseLoss(out, teacher.rank === out.rank ? teacher : reshape(teacher, out.shape));
}
