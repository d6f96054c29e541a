import { PassDataError, defineOptions, definePass, epochCount, imageJitter, lossLine, nothingToTrainReason } from '@whittle/graph';
import { distill, type FeaturePair } from './distill.js';
import { distillOnData } from './distill_any.js';
import type { TeacherRunner } from './teacher.js';

/** Options of the `distill` pass. */
export const distillOptions = defineOptions({
  alpha: { type: 'number', min: 0, max: 1, default: 0.9, description: 'weight of the soft-target KL term (1 − alpha goes to cross-entropy with labels; forced to 1 without labels)' },
  temperature: { type: 'number', min: 0.05, max: 100, default: 4, description: 'softmax temperature of teacher and student' },
  epochs: { type: 'number', integer: true, min: 1, default: 5, description: 'training epochs' },
  lr: { type: 'number', min: 0, default: 1e-3, description: 'Adam learning rate' },
  lrDecay: { type: 'number', min: 0, max: 1, default: 1, description: 'learning-rate factor applied after every epoch' },
  batchSize: { type: 'number', integer: true, min: 1, default: 64, description: 'batch size' },
  shift: { type: 'number', integer: true, min: 0, max: 8, default: 0, description: 'random image shifts of up to this many pixels (0 = none; with shifts the teacher runs on every batch instead of once)' },
  rotate: { type: 'number', min: 0, max: 180, default: 0, description: 'random image rotations of up to this many degrees, resampled bilinearly with shift as the (sub-pixel) translation range (0 = none)' },
  scale: { type: 'number', min: 0, max: 0.99, default: 0, description: 'random image zoom by a factor in [1 - scale, 1 + scale], like rotate (0 = none)' },
  mixup: { type: 'number', min: 0, max: 10, default: 0, description: 'mixup between the images of each batch with weights ~ Beta(mixup, mixup) (0 = none); the teacher labels every mixed image (function matching), labels are mixed alike' },
  features: { type: 'object', default: {}, description: 'feature matching: {studentValue: teacherValue} pairs, each through a learned linear projection (MSE)' },
});

/**
 * `distill`: train the model (the student) on the soft outputs of `ctx.resources.teacher` (a
 * {@link TeacherRunner}) over `ctx.training` of any task (feeds by input name: token ids,
 * tabular rows, several inputs; KL or MSE to the teacher's output); labels optional. In a recipe the student can be the
 * output of earlier passes (e.g. prune-structured → distill with the original as teacher).
 */
export const distillPass = definePass({
  specificationVersion: 'v1',
  name: 'distill',
  description: 'Knowledge distillation: train this model on a teacher\'s soft targets (KL with temperature) plus labels, optional feature matching.',
  optionsSchema: distillOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const teacher = ctx.resources?.['teacher'] as TeacherRunner | undefined;
    if (!teacher || typeof teacher.run !== 'function') throw new PassDataError('distill', "distill: needs a teacher: ctx.resources.teacher (a TeacherRunner, e.g. interpreterTeacher(model) or ortTeacher(path))");
    const data = ctx.training;
    if (!data) throw new PassDataError('distill', 'distill: needs training samples (ctx.training / --data)');
    const untrainable = nothingToTrainReason(model);
    if (untrainable) return { model, report: { changed: false, summary: `nothing to distill into: ${untrainable}`, details: { reason: untrainable } } };
    // the training-loop settings both paths share
    const loop = {
      epochs: o.epochs,
      lr: o.lr,
      lrDecay: o.lrDecay,
      batchSize: o.batchSize,
      seed: ctx.seed,
      backend: ctx.backend,
      onProgress: (f: number, m?: string) => ctx.onProgress(f, m),
      signal: ctx.signal,
    };
    const features: FeaturePair[] = Object.entries(o.features).map(([student, t]) => ({ student, teacher: String(t) }));
    // data that is not the one-float-input shorthand (token ids, several inputs, float targets),
    // or a task naming a loss/output: the general path (feeds by name, loss on any output)
    if (!data.x || data.feeds || data.targets || data.task) {
      if (features.length) throw new PassDataError('distill', 'distill: feature matching (features) needs image-shorthand data (x, sampleShape); drop features for data fed by input name');
      if (o.mixup || o.shift || o.rotate || o.scale) throw new PassDataError('distill', 'distill: mixup/shift/rotate/scale apply to image-shorthand data only; drop them for data fed by input name');
      const g = await distillOnData(model, {
        teacher,
        data,
        ...(data.task?.loss === 'kl' || data.task?.loss === 'mse' ? { loss: data.task.loss } : {}),
        alpha: o.alpha,
        temperature: o.temperature,
        ...loop,
      });
      const gl = g.history.map((h) => h.loss);
      return {
        model: g.model,
        report: {
          changed: true,
          summary: `distilled for ${epochCount(o.epochs)} (${g.soft}${g.soft === 'kl' ? ` T ${o.temperature}` : ''}, alpha ${g.alpha}${g.hard ? ` with ${g.hard}` : ''}); ${lossLine(gl)}`,
          stats: { epochs: o.epochs, finalLoss: gl[gl.length - 1] ?? NaN },
          details: { losses: gl, soft: g.soft, hard: g.hard ?? null, alpha: g.alpha, cachedTeacher: false },
        },
      };
    }
    if (!data.sampleShape) throw new PassDataError('distill', 'distill: x needs sampleShape (the shape of one sample, e.g. [1, 28, 28])');
    const r = await distill(model, {
      teacher,
      x: data.x,
      labels: data.labels,
      sampleShape: data.sampleShape,
      ...(data.inputName ? { inputName: data.inputName } : {}),
      alpha: o.alpha,
      temperature: o.temperature,
      ...loop,
      augment: imageJitter(o),
      mixup: o.mixup,
      features,
    });
    const losses = r.history.map((h) => h.loss);
    return {
      model: r.model,
      report: {
        changed: true,
        summary: `distilled for ${epochCount(o.epochs)} (T ${o.temperature}, alpha ${data.labels ? o.alpha : 1}${o.mixup ? `, mixup ${o.mixup}` : ''}${features.length ? `, ${features.length} feature pairs` : ''}); ${lossLine(losses)}`,
        stats: { epochs: o.epochs, finalLoss: losses[losses.length - 1] ?? NaN },
        details: { losses, cachedTeacher: r.cachedTeacher },
      },
    };
  },
});
