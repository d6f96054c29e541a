import { type BackendName, ArgumentError, engine, tensor } from '@whittle/tensor';
import { type Model, type SampleArray, runModel } from '@whittle/graph';

/**
 * A teacher the distiller can query: given a batch of inputs it returns the named outputs
 * (logits, and intermediate values for feature matching) as float32 arrays. Runtime-neutral:
 * Whittle's interpreter ({@link interpreterTeacher}) or onnxruntime-node (`ortTeacher` from
 * `@whittle/distill/node`) for ops the interpreter cannot run.
 */
export interface TeacherRunner {
  /** Output names in the order `run` returns them (the first is the logits). */
  readonly outputs: readonly string[];
  run(x: Float32Array, dims: readonly number[]): Promise<Float32Array[]>;
  /**
   * Run on feeds by input name (several inputs, any dtype: token ids, attention masks, float
   * features); returns the outputs in `outputs` order. Needed for data that is not one float input.
   */
  runFeeds?(feeds: Readonly<Record<string, SampleArray>>): Promise<Float32Array[]>;
  release?(): Promise<void>;
}

/** Options of {@link interpreterTeacher}. */
export interface InterpreterTeacherOptions {
  backend?: BackendName;
  inputName?: string;
  /** Logits output (default: the first graph output). */
  outputName?: string;
  /** Intermediate values to return too (for feature matching). */
  features?: readonly string[];
}

/** A teacher run by Whittle's interpreter (no gradients). */
export function interpreterTeacher(model: Model, opts: InterpreterTeacherOptions = {}): TeacherRunner {
  const input = opts.inputName ?? model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))?.name;
  const logits = opts.outputName ?? model.graph.outputs[0]?.name;
  if (!input || !logits) throw new ArgumentError('interpreterTeacher: the teacher needs an input and an output');
  const outputs = [logits, ...(opts.features ?? [])];
  const backend = opts.backend ?? 'cpu';
  return {
    outputs,
    async run(x, dims) {
      const feed = tensor(x, dims, 'float32', { backend });
      const res = await engine().noGradAsync(() => runModel(model, { [input]: feed }, { backend, fetch: outputs }));
      return Promise.all(outputs.map(async (o) => {
        const t = res.get(o);
        if (!t) throw new ArgumentError(`interpreterTeacher: the teacher produced no value '${o}'`);
        return Float32Array.from((await t.data()) as Float32Array);
      }));
    },
    async runFeeds(feeds) {
      const given = Object.fromEntries(Object.entries(feeds).map(([n, a]) => [n, tensor(a.data, [...a.shape], a.dtype, { backend })]));
      const res = await engine().noGradAsync(() => runModel(model, given, { backend, fetch: outputs }));
      return Promise.all(outputs.map(async (o) => {
        const t = res.get(o);
        if (!t) throw new ArgumentError(`interpreterTeacher: the teacher produced no value '${o}'`);
        return Float32Array.from((await t.data()) as ArrayLike<number>);
      }));
    },
  };
}

/** Teacher outputs for every sample, computed once in batches (the distiller's cache). */
export interface TeacherOutputs {
  /** Per output: `count * width` values. */
  values: Float32Array[];
  /** Per output: values per sample. */
  widths: number[];
}

/** Run the teacher over all samples once (row-major `x` of `sampleShape` samples). */
export async function teacherOutputs(teacher: TeacherRunner, x: Float32Array, sampleShape: readonly number[], batchSize = 256): Promise<TeacherOutputs> {
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const count = x.length / per;
  if (!Number.isInteger(count) || count === 0) throw new ArgumentError(`teacherOutputs: ${x.length} values are not a whole, non-zero number of samples of shape [${sampleShape.join(',')}]`);
  const parts: Float32Array[][] = [];
  for (let s = 0; s < count; s += batchSize) {
    const m = Math.min(batchSize, count - s);
    parts.push(await teacher.run(x.subarray(s * per, (s + m) * per), [m, ...sampleShape]));
  }
  const widths = teacher.outputs.map((_, k) => parts[0]![k]!.length / Math.min(batchSize, count));
  const values = teacher.outputs.map((name, k) => {
    const out = new Float32Array(count * widths[k]!);
    let off = 0;
    for (const p of parts) {
      out.set(p[k]!, off);
      off += p[k]!.length;
    }
    if (off !== out.length) throw new ArgumentError(`teacherOutputs: output '${name}' has a per-sample size that varies across batches`);
    return out;
  });
  return { values, widths };
}
