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
 * A teacher run by onnxruntime-node from ONNX bytes or a file path. `features` names extra graph
 * outputs to return after the logits (for feature matching, add the intermediate values to the
 * teacher's graph outputs before encoding it).
 */
export async function ortTeacher(model: Uint8Array | string, opts: { features?: readonly string[]; intraOpNumThreads?: number } = {}): Promise<TeacherRunner> {
  const session = typeof model === 'string'
    ? await ort.InferenceSession.create(model, opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {})
    : await ort.InferenceSession.create(model, opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {});
  const input = session.inputNames[0]!;
  const outputs = [session.outputNames[0]!, ...(opts.features ?? [])];
  for (const f of outputs) if (!session.outputNames.includes(f)) throw new ArgumentError(`ortTeacher: '${f}' is not an output of the teacher model (outputs: ${session.outputNames.join(', ')})`);
  return {
    outputs,
    async run(x, dims) {
      const res = await session.run({ [input]: new ort.Tensor('float32', x, [...dims]) });
      return outputs.map((o) => Float32Array.from(res[o]!.data as Float32Array));
    },
    release: () => session.release(),
  };
}
