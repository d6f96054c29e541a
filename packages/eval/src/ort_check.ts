/** Does onnxruntime-node accept a model? (node only) */
import * as ort from 'onnxruntime-node';
import { EvaluationError } from './errors.js';

/** onnxruntime refused to load a model Whittle produced: `ortMessage` is what onnxruntime said. */
export class OrtRejectedError extends EvaluationError {
  readonly ortMessage: string;
  constructor(what: string, ortMessage: string) {
    super(`onnxruntime-node refuses ${what}: ${ortMessage}`);
    this.ortMessage = ortMessage;
  }
}

/**
 * Create (and release) an onnxruntime-node session for the model — bytes, or a file path when the
 * model has external data — with every graph optimization on, as a user's session would; throws
 * {@link OrtRejectedError} naming `what` with onnxruntime's message when it refuses.
 */
export async function checkOrtLoads(model: Uint8Array | string, what = 'the model'): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  } catch (e) {
    throw new OrtRejectedError(what, (e as Error).message.split('\n')[0] ?? String(e));
  }
  await session.release();
}
