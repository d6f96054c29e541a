/**
 * @whittle/distill/node — everything in `@whittle/distill` plus a teacher run by
 * onnxruntime-node (for teachers with ops Whittle's interpreter does not run, and for speed).
 * @module
 */
import * as ort from 'onnxruntime-node';
import { ArgumentError } from '@whittle/tensor';
import type { TeacherRunner } from './teacher.js';

export * from './index.js';

/**
 * A teacher run by onnxruntime-node from ONNX bytes or a file path; `output` is the graph output
 * matched (default: the first float tensor output, so a classifier's scores rather than its
 * labels). `features` names extra graph
 * outputs to return after the logits (for feature matching, add the intermediate values to the
 * teacher's graph outputs before encoding it).
 */
export async function ortTeacher(model: Uint8Array | string, opts: { features?: readonly string[]; intraOpNumThreads?: number; output?: string } = {}): Promise<TeacherRunner> {
  const session = typeof model === 'string'
    ? await ort.InferenceSession.create(model, opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {})
    : await ort.InferenceSession.create(model, opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {});
  const input = session.inputNames[0]!;
  // onnxruntime-node cannot return a sequence or map (skl2onnx's ZipMap probabilities), and a run
  // that fetches one fails: the teacher fetches only what it matches, and matches float tensors
  const meta = session.outputMetadata ?? [];
  const floatOut = (n: string): boolean => meta.some((m) => m.name === n && m.isTensor && (m.type === 'float32' || m.type === 'float16'));
  const nonTensor = meta.filter((m) => !m.isTensor).map((m) => m.name);
  const first = opts.output ?? (meta.length ? session.outputNames.find(floatOut) : session.outputNames[0]);
  if (first === undefined) {
    throw new ArgumentError(`ortTeacher: the teacher has no float tensor output to distill from (outputs: ${session.outputNames.join(', ')}${nonTensor.length ? `; ${nonTensor.join(', ')} is a sequence or map, which onnxruntime-node cannot return: convert a scikit-learn classifier with skl2onnx options={'zipmap': False}` : ''})`);
  }
  const outputs = [first, ...(opts.features ?? [])];
  for (const f of outputs) if (!session.outputNames.includes(f)) throw new ArgumentError(`ortTeacher: '${f}' is not an output of the teacher model (outputs: ${session.outputNames.join(', ')})`);
  for (const f of outputs) if (nonTensor.includes(f)) throw new ArgumentError(`ortTeacher: '${f}' is a sequence or map, which onnxruntime-node cannot return; name a tensor output`);
  // onnxruntime's own message names an input but not whose: say it is the teacher, and what it takes
  const teacherRun = async (feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> => {
    try {
      return await session.run(feeds, outputs);
    } catch (e) {
      const given = Object.entries(feeds).map(([k, t]) => `${k} [${t.dims.join(', ')}] ${t.type}`).join(', ');
      const wants = (session.inputMetadata ?? []).map((m) => (m.isTensor ? `${m.name} [${m.shape.map((d) => (typeof d === 'number' ? d : d || '?')).join(', ')}] ${m.type}` : m.name)).join(', ');
      throw new ArgumentError(`ortTeacher: the teacher cannot run on the training data (given ${given}${wants ? `; the teacher takes ${wants}` : ''}): ${(e as Error).message}`);
    }
  };
  return {
    outputs,
    async run(x, dims) {
      const res = await teacherRun({ [input]: new ort.Tensor('float32', x, [...dims]) });
      return outputs.map((o) => Float32Array.from(res[o]!.data as Float32Array));
    },
    async runFeeds(feeds) {
      const given: Record<string, ort.Tensor> = {};
      for (const [name, a] of Object.entries(feeds)) given[name] = new ort.Tensor(a.dtype as ort.Tensor.Type, a.data as ort.Tensor.DataType, [...a.shape]);
      const res = await teacherRun(given);
      return outputs.map((o) => Float32Array.from(res[o]!.data as ArrayLike<number>));
    },
    release: () => session.release(),
  };
}
