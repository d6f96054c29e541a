import { type Tensor, ArgumentError, add, crossEntropy, klDivergence, mulScalar } from '@whittle/tensor';

/** Options of {@link distillationLoss}. */
export interface DistillationLossOptions {
  /** Weight of the soft-target term (1 = label-free). */
  alpha: number;
  /** Softmax temperature T of both distributions. */
  temperature: number;
}

/**
 * Hinton et al.'s loss: alpha · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) +
 * (1 − alpha) · cross-entropy(student, labels), averaged over the batch. T² keeps the soft
 * term's gradients on the scale of the hard one when T changes: the gradient with respect to the
 * student logits is (alpha·T·(softmax(s/T) − softmax(t/T)) + (1 − alpha)·(softmax(s) − y)) / N.
 * `labels` are class indices [N] or probability targets [N, C] (e.g. mixup's mixed one-hots).
 * Without labels alpha must be 1.
 */
export function distillationLoss(student: Tensor, teacher: Tensor, labels: Tensor | undefined, o: DistillationLossOptions): Tensor {
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new ArgumentError(`distillationLoss: alpha must be in [0, 1], got ${o.alpha}`);
  if (!(o.temperature > 0)) throw new ArgumentError(`distillationLoss: temperature must be > 0, got ${o.temperature}`);
  const soft = mulScalar(klDivergence(student, teacher, { temperature: o.temperature }), o.alpha * o.temperature ** 2);
  if (o.alpha === 1) return soft;
  if (!labels) throw new ArgumentError('distillationLoss: alpha < 1 needs labels (use alpha 1 for label-free distillation)');
  return add(soft, mulScalar(crossEntropy(student, labels), 1 - o.alpha));
}
