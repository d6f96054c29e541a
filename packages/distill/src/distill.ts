import { type Augment, type Batch, type EpochResult, type Model, GraphModule, MIXUP_SEED_OFFSET, fit, mixupBatch, mixupTargets } from '@whittle/graph';
import { type BackendName, type Tensor, Adam, ArgumentError, Rng, ShapeError, add, engine, matmul, mseLoss, mulScalar, reshape, tensor, xavierUniform } from '@whittle/tensor';
import { distillationLoss } from './loss.js';
import { type StudentSpec, buildStudent, isStudentSpec } from './student.js';
import { type TeacherOutputs, type TeacherRunner, teacherOutputs } from './teacher.js';

/** A student intermediate value matched to a teacher one through a learned linear projection. */
export interface FeaturePair {
  /** Value name in the student graph. */
  student: string;
  /** Value name in the teacher graph (the teacher runner must return it). */
  teacher: string;
  /** Weight of this MSE term in the loss (default 1). */
  weight?: number;
}

/** Options of {@link distill}. */
export interface DistillOptions {
  teacher: TeacherRunner;
  /** Samples (row-major, `count * prod(sampleShape)`), optional labels. */
  x: Float32Array;
  labels?: Int32Array | undefined;
  sampleShape: readonly number[];
  /** Soft-target weight (default 0.9; forced to 1 without labels). */
  alpha?: number;
  /** Temperature (default 4). */
  temperature?: number;
  epochs: number;
  lr?: number;
  /** Multiply the learning rate by this after every epoch (default 1). */
  lrDecay?: number;
  batchSize?: number;
  seed?: number;
  /** Batch augmentation (e.g. randomShift(2)); the teacher then runs on every augmented batch. */
  augment?: Augment | undefined;
  /**
   * Mixup Beta(mixup, mixup) between the images of each batch, after `augment` (0/absent: off).
   * The teacher labels every mixed image itself (function matching, Beyer et al. 2022), so the
   * student sees new inputs with consistent targets every epoch; the label term, if any, uses the
   * equally mixed one-hot labels. Same pairs and weights as `trainClassifier({ mixup })` for a seed.
   */
  mixup?: number | undefined;
  features?: readonly FeaturePair[];
  inputName?: string;
  backend?: BackendName;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

/** What {@link distill} returns. */
export interface DistillResult {
  model: Model;
  history: EpochResult[];
  /** Whether teacher outputs were computed once and reused (no augmentation, no mixup). */
  cachedTeacher: boolean;
}

function rows(values: Float32Array, width: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * width);
  idx.forEach((i, k) => out.set(values.subarray(i * width, (i + 1) * width), k * width));
  return out;
}

/**
 * Train `student` (an ONNX graph with a logits output, or a {@link StudentSpec} built with
 * weights from `seed`) to match `teacher`'s soft outputs with {@link distillationLoss}, plus
 * optional feature matching. Teacher outputs are computed once
 * and cached unless the batches are augmented or mixed, in which case the teacher labels every
 * batch exactly as the student sees it. Deterministic for a seed; returns the trained
 * student as a new model.
 */
export async function distill(studentOrSpec: Model | StudentSpec, o: DistillOptions): Promise<DistillResult> {
  const student = isStudentSpec(studentOrSpec) ? buildStudent(studentOrSpec, o.seed ?? 0) : studentOrSpec;
  const input = o.inputName ?? student.graph.inputs.find((i) => !student.graph.initializers.has(i.name))?.name;
  const logitsName = student.graph.outputs[0]?.name;
  if (!input || !logitsName) throw new ArgumentError('distill: the student needs an input and a logits output');
  const per = o.sampleShape.reduce((a, b) => a * b, 1);
  const count = o.x.length / per;
  if (!Number.isInteger(count) || count === 0) throw new ArgumentError(`distill: ${o.x.length} values are not a whole, non-zero number of samples of shape [${o.sampleShape.join(',')}]`);
  if (o.labels && o.labels.length !== count) throw new ArgumentError(`distill: ${o.labels.length} labels for ${count} samples`);
  const features = o.features ?? [];
  for (const f of features) {
    if (!o.teacher.outputs.includes(f.teacher)) throw new ArgumentError(`distill: feature '${f.teacher}' is not among the teacher runner's outputs (${o.teacher.outputs.join(', ')})`);
  }
  const alpha = o.labels ? o.alpha ?? 0.9 : 1;
  const temperature = o.temperature ?? 4;
  const batchSize = o.batchSize ?? 64;
  const backend = o.backend ?? 'cpu';
  const rng = new Rng(o.seed ?? 0);
  const augRng = new Rng((o.seed ?? 0) + 0x5eed);
  const mixRng = new Rng((o.seed ?? 0) + MIXUP_SEED_OFFSET);
  const mixup = o.mixup ?? 0;
  if (!(mixup >= 0)) throw new ArgumentError(`distill: mixup must be >= 0, got ${o.mixup}`);
  let classes = 0; // set by the probe below, before the first batch
  const cache: TeacherOutputs | undefined = o.augment || mixup ? undefined : await teacherOutputs(o.teacher, o.x, o.sampleShape);
  const module = await GraphModule.create(student, { backend });
  const proj = new Map<FeaturePair, Tensor>();
  const teacherIndex = (name: string): number => o.teacher.outputs.indexOf(name);
  async function* batches(): AsyncGenerator<Batch> {
    const order = new Int32Array(count).map((_, i) => i);
    rng.shuffle(order);
    for (let s = 0; s < count; s += batchSize) {
      const idx = order.subarray(s, Math.min(count, s + batchSize));
      const xb = rows(o.x, per, idx);
      if (o.augment) o.augment(xb, idx.length, o.sampleShape, augRng);
      const mix = mixup ? mixupBatch(xb, idx.length, o.sampleShape, mixup, mixRng) : undefined;
      const dims = [idx.length, ...o.sampleShape];
      const t = cache ? cache.values.map((v, k) => rows(v, cache.widths[k]!, idx)) : await o.teacher.run(xb, dims);
      yield {
        inputs: { [input!]: tensor(xb, dims, 'float32', { backend }) },
        teacher: t.map((v) => tensor(v, [idx.length, v.length / idx.length], 'float32', { backend })),
        ...(o.labels
          ? { labels: mix
            ? tensor(mixupTargets(Array.from(idx, (i) => o.labels![i]!), mix, classes), [idx.length, classes], 'float32', { backend })
            : tensor(BigInt64Array.from(idx, (i) => BigInt(o.labels![i]!)), [idx.length], 'int64', { backend }) }
          : {}),
      };
    }
  }
  const params = module.parameterList();
  // one-sample probe: the student's logits/feature widths vs the teacher's (from its cache or a run)
  const x1 = o.x.slice(0, per);
  const one = { [input]: tensor(x1, [1, ...o.sampleShape], 'float32', { backend }) };
  const sOut = await engine().noGradAsync(() => module.forward(one, [logitsName, ...features.map((f) => f.student)]));
  const tWidths = cache ? cache.widths : (await o.teacher.run(x1, [1, ...o.sampleShape])).map((v) => v.length);
  const sLogits = sOut.get(logitsName)!.size;
  if (sLogits !== tWidths[0]) throw new ShapeError(`distill: the student's output '${logitsName}' has ${sLogits} values per sample but the teacher's '${o.teacher.outputs[0]}' has ${tWidths[0]}; both must score the same classes`);
  classes = sLogits;
  for (const f of features) {
    const sv = sOut.get(f.student);
    if (!sv) throw new ArgumentError(`distill: the student has no value '${f.student}'`);
    // learned projection student feature → teacher feature width
    const p = xavierUniform([sv.size, tWidths[teacherIndex(f.teacher)]!], rng, { backend }).requireGrad();
    proj.set(f, p);
    params.push(p);
  }
  const optimizer = new Adam(params, { lr: o.lr ?? 1e-3 });
  const history = await fit(module, {
    epochs: o.epochs,
    batchesPerEpoch: Math.ceil(count / batchSize),
    data: () => batches(),
    loss: (outputs, batch) => {
      const t = batch.teacher as Tensor[];
      let loss = distillationLoss(outputs.get(logitsName)!, t[0]!, batch.labels as Tensor | undefined, { alpha, temperature });
      for (const f of features) {
        const s = outputs.get(f.student)!;
        const n = s.shape[0]!;
        const mapped = matmul(reshape(s, [n, s.size / n]), proj.get(f)!);
        loss = add(loss, mulScalar(mseLoss(mapped, t[teacherIndex(f.teacher)]!), f.weight ?? 1));
      }
      return loss;
    },
    optimizer,
    fetch: features.map((f) => f.student),
    callbacks: { onEpochEnd: () => void (optimizer.lr *= o.lrDecay ?? 1) },
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const model = await module.toModel();
  optimizer.dispose();
  module.dispose();
  return { model, history, cachedTeacher: !!cache };
}
