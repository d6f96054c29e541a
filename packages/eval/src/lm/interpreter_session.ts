/**
 * A {@link DecoderSession} over Whittle's own interpreter: the LM evaluation (perplexity, greedy
 * generation) without onnxruntime, in Node or a browser. Every float16 op's output is kept in
 * float16 here (each op computed in float32, then rounded), where onnxruntime's CPU provider
 * computes most float16 ops in float32 end to end: a float16 model whose values overflow between
 * ops shows it in this session as it would on WebGPU. (An accumulation that overflows inside one
 * op while its result fits, as a float16 shader's might, is not seen.) Browser-safe.
 */
import { type Model, runModel } from '@whittle/graph';
import { type DType, type Tensor, tensor } from '@whittle/tensor';
import { EvaluationError } from '../errors.js';
import type { DecoderFeedType, DecoderSession, DecoderTensor } from './session.js';

const FEED_TYPES: Record<DecoderFeedType, DType> = { int64: 'int64', bool: 'bool', float32: 'float32', float16: 'float16' };

/** The interpreter's tensor under the runtime-neutral view (float16 data as Uint16Array bits). */
interface InterpreterTensor extends DecoderTensor {
  readonly tensor: Tensor;
}

async function view(t: Tensor): Promise<InterpreterTensor> {
  return { type: t.dtype, dims: [...t.shape], data: await t.data(), tensor: t };
}

/** A decoder session running `model` in Whittle's interpreter on the cpu backend. */
export function interpreterDecoderSession(model: Model): DecoderSession {
  const inputs = new Map(model.graph.inputs.map((i) => [i.name, i]));
  return {
    inputNames: model.graph.inputs.map((i) => i.name),
    outputNames: model.graph.outputs.map((o) => o.name),
    inputInfo(name) {
      const t = inputs.get(name)?.type;
      if (t?.kind !== 'tensor') return undefined;
      return { type: t.elemType ?? 'float32', shape: (t.shape ?? []).map((d) => (typeof d === 'number' ? d : (d ?? '?'))) };
    },
    tensor(type, data, dims): InterpreterTensor {
      const t = tensor(data as Float32Array, [...dims], FEED_TYPES[type], { backend: 'cpu' });
      return { type, dims: [...dims], data, tensor: t };
    },
    async run(feeds) {
      const given: Record<string, Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) {
        const t = (f as Partial<InterpreterTensor>).tensor;
        if (!t) throw new EvaluationError(`interpreter decoder: feed '${name}' was not made by this session's tensor()`);
        given[name] = t;
      }
      const out = await runModel(model, given, { backend: 'cpu' });
      const res: Record<string, DecoderTensor> = {};
      for (const [name, t] of out) res[name] = await view(t);
      return res;
    },
  };
}
