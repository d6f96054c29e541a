import { type Model, PassDataError } from '@whittle/graph';
import { EvaluationError } from '@whittle/eval';
import { cliInputSpecs } from './folder_shapes.js';

/**
 * A pass or `evaluate` that could not run the model on `--data synthetic[:N]` samples: the sizes synthetic data
 * gave the dynamic dims (512 audio samples, 16 tokens, 224-pixel sides) are guesses a model may
 * not take (a speech encoder whose strided convolutions need thousands of samples). Returns the
 * error with how to size those dims appended; any other error unchanged.
 */
export function withSyntheticDimsHint(e: unknown, data: string | undefined, model: Model): unknown {
  if (!data || !/^synthetic(:\d+)?$/.test(data)) return e;
  // a pass's calibration run, or evaluate's run in onnxruntime
  const ran = (e instanceof PassDataError && /could not run the model/.test(e.message)) || (e instanceof EvaluationError && /onnxruntime could not run/.test(e.message));
  if (!ran) return e;
  const dims = [...new Set(cliInputSpecs(model).flatMap((s) => (s.shape ?? []).filter((d, k): d is string => k > 0 && typeof d === 'string' && d !== '')))];
  if (dims.length === 0) return e;
  const example = dims.map((d) => `${d}: <size>`).join(', ');
  // the same typed error, its message extended
  e.message = `${e.message}. --data ${data} made up the sizes of the dynamic dims (${dims.join(', ')}; see the 'data:' line); size them with a data spec: a .yaml file with 'kind: synthetic' and 'synthetic: { count: 32, dims: { ${example} } }', given as --data <file>`;
  return e;
}
