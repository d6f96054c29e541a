import { isFloat } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { mul, sub } from '../ops/binary.js';
import { sum } from '../ops/reduce.js';
import { mulScalar } from '../ops/scalar.js';
import { logSoftmax } from '../ops/softmax.js';
import { exp } from '../ops/unary.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Options of {@link klDivergence}. */
export interface KlDivergenceOptions {
  /** Softmax temperature T > 0 applied to both logits (default 1). */
  temperature?: number;
}

/**
 * Distillation loss KL(softmax(teacher/T) ‖ softmax(student/T)) over the last axis, summed
 * over classes and averaged over all leading positions (the batch; torch's
 * `kl_div(log_softmax(s/T), log_softmax(t/T), reduction='batchmean', log_target=True)`).
 *
 * It does NOT include the T² factor of Hinton et al.: a distillation loss multiplies by T²
 * itself to keep gradient magnitudes independent of T. Both inputs go through logSoftmax (stable
 * for large logits). Gradients flow to the student; pass a teacher that does not require grad
 * (e.g. computed under `noGrad`) to keep it fixed.
 */
export function klDivergence(studentLogits: Tensor, teacherLogits: Tensor, opts: KlDivergenceOptions = {}): Tensor {
  const s = studentLogits;
  const t = teacherLogits;
  if (!shapesEqual(s.shape, t.shape)) throw new ShapeError(`klDivergence: student logits [${s.shape.join(',')}] and teacher logits [${t.shape.join(',')}] differ in shape`);
  if (s.rank < 1) throw new ShapeError('klDivergence: logits need a class axis (rank >= 1)');
  if (!isFloat(s.dtype) || s.dtype !== t.dtype) throw new DTypeError(`klDivergence: logits must share a float dtype, got ${s.dtype} and ${t.dtype}`);
  const temp = opts.temperature ?? 1;
  if (!(Number.isFinite(temp) && temp > 0)) throw new ArgumentError(`klDivergence: temperature must be > 0, got ${temp}`);
  const scaled = (x: Tensor): Tensor => (temp === 1 ? x : mulScalar(x, 1 / temp));
  const logPs = logSoftmax(scaled(s), -1);
  const logPt = logSoftmax(scaled(t), -1);
  const batch = s.size / s.shape[s.rank - 1]!;
  return mulScalar(sum(mul(exp(logPt), sub(logPt, logPs))), 1 / Math.max(1, batch));
}
