import { type Model, PassDataError } from '@whittle/graph';
import { modelInputSpecs } from '@whittle/eval';

/**
 * A pass that could not run the model on `--data synthetic[:N]` samples: the sizes synthetic data
 * gave the dynamic dims (512 audio samples, 16 tokens, 224-pixel sides) are guesses a model may
 * not take (a speech encoder whose strided convolutions need thousands of samples). Returns the
 * error with how to size those dims appended; any other error unchanged.
 */
export function withSyntheticDimsHint(e: unknown, data: string | undefined, model: Model): unknown {
  if (!data || !/^synthetic(:\d+)?$/.test(data) || !(e instanceof PassDataError)) return e;
  if (!/could not run the model/.test(e.message)) return e;
  const dims = [...new Set(modelInputSpecs(model).flatMap((s) => (s.shape ?? []).filter((d, k): d is string => k > 0 && typeof d === 'string' && d !== '')))];
  if (dims.length === 0) return e;
  const example = dims.map((d) => `${d}: <size>`).join(', ');
  // the same typed error, its message extended
  e.message = `${e.message}. --data ${data} made up the sizes of the dynamic dims (${dims.join(', ')}; see the 'data:' line); size them with a data spec: a .yaml file with 'kind: synthetic' and 'synthetic: { count: 32, dims: { ${example} } }', given as --data <file>`;
  return e;
}
