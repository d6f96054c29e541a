/** Decoders in onnxruntime-node for the LM evaluation (node only). */
import * as ort from 'onnxruntime-node';
import type { DecoderSession } from '../lm/session.js';

/** Options of {@link openOrtDecoder}. */
export interface OrtDecoderOptions {
  /** Intra-op threads (default: onnxruntime's). */
  intraOpNumThreads?: number;
}

/** A {@link DecoderSession} on onnxruntime-node, plus `release`. */
export interface OrtDecoder extends DecoderSession {
  release(): Promise<void>;
}

/**
 * Open a decoder (a file path, so external data next to it loads, or .onnx bytes) in
 * onnxruntime-node. Presents come back as onnxruntime tensors and are fed back unchanged.
 */
export async function openOrtDecoder(model: string | Uint8Array, opts: OrtDecoderOptions = {}): Promise<OrtDecoder> {
  const options: ort.InferenceSession.SessionOptions = {};
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  const info = new Map<string, { type: string; shape: readonly (number | string)[] }>();
  for (const m of session.inputMetadata ?? []) if (m.isTensor) info.set(m.name, { type: m.type, shape: m.shape });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputInfo: (name) => info.get(name),
    tensor: (type, data, dims) => new ort.Tensor(type, data as Float32Array, [...dims]),
    run: async (feeds) => (await session.run(feeds as Record<string, ort.Tensor>)) as Record<string, ort.Tensor>,
    release: () => session.release(),
  };
}
