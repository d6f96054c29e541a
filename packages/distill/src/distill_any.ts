import {
  type Batch,
  type EpochResult,
  type Model,
  type ResolvedTask,
  type SampleArray,
  type TrainingData,
  GraphModule,
  batchCount,
  fit,
  resolveTrainingData,
  outputClassColumns,
  taskLoss,
  teacherMse,
  trainingBatches,
} from '@whittle/graph';
import { type BackendName, type Tensor, Adam, ArgumentError, Rng, add, mulScalar, tensor } from '@whittle/tensor';
import type { TeacherRunner } from './teacher.js';

/** Options of {@link distillOnData}. */
export interface DistillOnDataOptions {
  teacher: TeacherRunner;
  /** Samples of any task: feeds by input name, labels/targets optional (see `TrainingData`). */
  data: TrainingData;
  /**
   * Soft loss to the teacher's output: 'kl' (softmax with temperature over the class axis) or
   * 'mse' (regression heads, features). Default: 'mse' for float targets or `task.loss: 'mse'`,
   * else 'kl'.
   */
  loss?: 'kl' | 'mse' | undefined;
  /** Weight of the soft term (default 0.9; 1 without labels/targets). */
  alpha?: number | undefined;
  temperature?: number | undefined;
  epochs: number;
  lr?: number | undefined;
  lrDecay?: number | undefined;
  batchSize?: number | undefined;
  seed?: number | undefined;
  backend?: BackendName | undefined;
  onProgress?: ((fraction: number, message: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** What {@link distillOnData} returns. */
export interface DistillOnDataResult {
  model: Model;
  history: EpochResult[];
  /** Soft and hard losses used. */
  soft: 'kl' | 'mse';
  hard: ResolvedTask['loss'] | undefined;
  alpha: number;
}

async function asSamples(inputs: Readonly<Record<string, Tensor>>): Promise<Record<string, SampleArray>> {
  const out: Record<string, SampleArray> = {};
  for (const [name, t] of Object.entries(inputs)) out[name] = { data: await t.data(), shape: t.shape, dtype: t.dtype };
  return out;
}

/**
 * Distillation on data of any task: the student (same inputs as the teacher) learns the teacher's
 * output on every batch — KL with temperature over the class axis (scaled by T²) or MSE — plus,
 * with labels or targets, (1 − alpha) of the task loss (cross-entropy of any shape, next-token,
 * MSE). Works for token sequences, tabular rows, several inputs; the teacher runs through
 * `runFeeds` on each batch.
 */
export async function distillOnData(student: Model, o: DistillOnDataOptions): Promise<DistillOnDataResult> {
  const runFeeds = o.teacher.runFeeds?.bind(o.teacher);
  if (!runFeeds) throw new ArgumentError('distill: this teacher runner has no runFeeds; use interpreterTeacher or ortTeacher (they feed inputs by name)');
  // mse without targets: the student matches the teacher's outputs (a mask, a regression head),
  // no hard term — resolved as label-free data
  const teacherMseOnly = o.data.task?.loss === 'mse' && !o.data.targets && !o.data.labels;
  const data = resolveTrainingData(teacherMseOnly ? { ...o.data, task: { ...o.data.task, loss: 'kl' } } : o.data, student, { pass: 'distill', defaultLoss: 'kl', losses: ['ce', 'lm', 'mse', 'kl'] });
  const floatTargets = data.targets !== undefined && /^float/.test(data.targets.dtype);
  const soft: 'kl' | 'mse' = o.loss ?? (o.data.task?.loss === 'mse' || floatTargets || (o.data.task?.loss === undefined && !classScores(student, data.task.output)) ? 'mse' : 'kl');
  const hard = data.task.loss === 'kl' ? undefined : data.task.loss === 'mse' && !data.targets ? undefined : data.task.loss;
  const alpha = hard ? o.alpha ?? 0.9 : 1;
  if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentError(`distill: alpha must be in [0, 1], got ${alpha}`);
  const temperature = o.temperature ?? 4;
  if (!(temperature > 0)) throw new ArgumentError(`distill: temperature must be > 0, got ${temperature}`);
  const backend = o.backend ?? 'cpu';
  const batchSize = o.batchSize ?? 64;
  const rng = new Rng(o.seed ?? 0);
  const module = await GraphModule.create(student, { backend });
  const optimizer = new Adam(module.parameterList(), { lr: o.lr ?? 1e-3 });
  async function* batches(): AsyncGenerator<Batch> {
    for (const b of trainingBatches(data, { batchSize, rng, backend })) {
      const t = await runFeeds!(await asSamples(b.inputs));
      const v = t[0]!;
      yield { ...b, teacher: tensor(v, [v.length], 'float32', { backend }) };
    }
  }
  const softTask: ResolvedTask = { ...data.task, loss: 'kl' };
  try {
    const history = await fit(module, {
      epochs: o.epochs,
      batchesPerEpoch: batchCount(data, batchSize),
      data: () => batches(),
      loss: (outputs, batch) => {
        const out = outputs.get(data.task.output)!;
        const teacher = batch['teacher'] as Tensor;
        let loss = soft === 'kl' ? taskLoss(softTask, outputs, batch, teacher, temperature) : teacherMse(out, teacher);
        if (alpha !== 1) loss = mulScalar(loss, alpha);
        if (hard && alpha < 1) loss = add(loss, mulScalar(taskLoss(data.task, outputs, batch), 1 - alpha));
        return loss;
      },
      optimizer,
      callbacks: { onEpochEnd: () => void (optimizer.lr *= o.lrDecay ?? 1) },
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { model: await module.toModel(), history, soft, hard, alpha };
  } finally {
    optimizer.dispose();
    module.dispose();
  }
}

/**
 * Whether an output holds class scores a softmax KL applies to: [N, classes] or a sequence's
 * [N, T, vocab] with more than one class (unknown shapes count as scores). A sigmoid mask
 * [N, 1, H, W], a single score [N, 1], a feature map or a recurrent state is matched by MSE
 * instead (a softmax over one column is constant, over an image's columns meaningless).
 */
function classScores(model: Model, output: string): boolean {
  return outputClassColumns(model, output) !== undefined;
}
