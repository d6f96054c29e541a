/** Matching named arrays (files, .npz members) to model inputs and a label array. */
import { DataError } from './errors.js';
import type { ModelInputSpec } from './source.js';

/** Array names taken as labels when no label array is named. */
export const LABEL_NAMES: readonly string[] = ['labels', 'label', 'y', 'targets', 'target'];

/** Which array feeds which input, and which holds the labels. */
export interface ArrayMatch {
  /** Array name by model input name. */
  inputs: Record<string, string>;
  labels?: string | undefined;
}

/**
 * Match arrays to inputs: an explicit `map` (input → array) first, then by equal name,
 * `input_<i>` / `arr_<i>` (numpy.savez's positional names) by input index, and a single array for
 * a single-input model. Arrays named like labels (or `labels`) hold labels. Unmatched arrays and
 * unfed inputs are {@link DataError}s naming `file`.
 */
export function matchArrays(names: readonly string[], inputs: readonly ModelInputSpec[], file: string, opts: { map?: Readonly<Record<string, string>> | undefined; labels?: string | undefined } = {}): ArrayMatch {
  const labels = opts.labels ?? names.find((n) => LABEL_NAMES.includes(n.toLowerCase()) && !inputs.some((i) => i.name === n));
  if (opts.labels !== undefined && !names.includes(opts.labels)) throw new DataError(`no array '${opts.labels}' for the labels; the data holds ${names.map((n) => `'${n}'`).join(', ')}`, { file });
  const rest = names.filter((n) => n !== labels);
  const out: Record<string, string> = {};
  for (const [input, array] of Object.entries(opts.map ?? {})) {
    if (!inputs.some((i) => i.name === input)) throw new DataError(`the data spec maps '${array}' to input '${input}', which the model does not have (inputs: ${inputs.map((i) => i.name).join(', ')})`, { file });
    if (!rest.includes(array)) throw new DataError(`the data spec maps array '${array}' to input '${input}', the data holds ${rest.map((n) => `'${n}'`).join(', ') || 'nothing'}`, { file });
    out[input] = array;
  }
  const used = (a: string): boolean => Object.values(out).includes(a);
  inputs.forEach((input, i) => {
    if (out[input.name]) return;
    const byName = rest.find((n) => n === input.name && !used(n));
    const byIndex = rest.find((n) => (n === `input_${i}` || n === `arr_${i}`) && !used(n));
    const sole = inputs.length === 1 && rest.length === 1 ? rest[0] : undefined;
    const pick = byName ?? byIndex ?? sole;
    if (pick !== undefined) out[input.name] = pick;
  });
  const unused = rest.filter((n) => !used(n));
  if (unused.length) throw new DataError(`array(s) ${unused.map((n) => `'${n}'`).join(', ')} match no model input (inputs: ${inputs.map((i) => i.name).join(', ')}); name each after its input (or input_<i>), or map them in a data spec`, { file });
  const missing = inputs.filter((i) => !out[i.name]);
  if (missing.length) throw new DataError(`no data for model input(s) ${missing.map((i) => `'${i.name}'`).join(', ')}; the data holds ${rest.map((n) => `'${n}'`).join(', ') || 'nothing'}`, { file });
  return { inputs: out, labels };
}
