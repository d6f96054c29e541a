import type { Dim, Model } from '../ir/types.js';

/**
 * The class count of an output whose last axis holds classes — a classifier's [N, classes] or a
 * sequence model's [N, T, vocab] — for top-1 agreement and softmax losses; undefined for other
 * outputs (a single score [N, 1], an image mask [N, 1, H, W] or a feature map, whose last axis is
 * a spatial one: an argmax along it means nothing). Unknown sizes (symbolic, null) count as classes.
 */
export function classColumns(dims: readonly Dim[]): number | undefined {
  if (dims.length !== 2 && dims.length !== 3) return undefined;
  const last = dims[dims.length - 1];
  if (typeof last === 'number') return last >= 2 ? last : undefined;
  return Number.NaN;
}

// how exporters name the state a step hands to the next: state → stateN, h → hn, c → cn,
// hidden → hidden_out, past_… → present_…
const NEXT_STATE_SUFFIX = /^[_.]?(n|new|next|out|o)$/;

function namesNextState(input: string, output: string): boolean {
  const i = input.toLowerCase();
  const o = output.toLowerCase();
  if (o.startsWith(i) && NEXT_STATE_SUFFIX.test(o.slice(i.length))) return true;
  return i.startsWith('past') && o.startsWith('present') && i.replace(/^past(_key_values)?/, '') === o.slice('present'.length);
}

function compatible(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, k) => typeof d !== 'number' || typeof b[k] !== 'number' || d === b[k]);
}

/**
 * Whether `output` is a recurrent state the model hands back to itself (Silero VAD's `stateN` for
 * its `state` input, an RNN's `hn` for `h`, a decoder's `present…` for `past…`): an output named as
 * the next value of a graph input, of the same element type and a compatible shape. Its last axis
 * holds hidden units, never classes.
 */
export function isRecurrentState(model: Model, output: string): boolean {
  const out = model.graph.outputs.find((v) => v.name === output)?.type;
  if (out?.kind !== 'tensor') return false;
  return model.graph.inputs.some((i) => {
    const t = i.type;
    if (model.graph.initializers.has(i.name) || t?.kind !== 'tensor' || t.elemType !== out.elemType || !namesNextState(i.name, output)) return false;
    return !t.shape || !out.shape || compatible(t.shape, out.shape);
  });
}

// what Transformers.js / Optimum / sentence-transformers exports name feature outputs: hidden
// units or embedding dimensions along the last axis, never classes
const FEATURE_OUTPUT = /hidden_state|embed|pooler_output|^features?$/i;

/**
 * The class count of `output` of `model` (see {@link classColumns}) from its observed `dims`, or
 * its declared shape when none are given; undefined when it is not class scores, including a
 * recurrent state ({@link isRecurrentState}) and a feature output named as exporters name them
 * (`last_hidden_state`, `encoder_hidden_states`, `pooler_output`, `sentence_embedding`, …). NaN
 * when it holds classes of unknown count.
 */
export function outputClassColumns(model: Model, output: string, dims?: readonly number[]): number | undefined {
  if (isRecurrentState(model, output) || FEATURE_OUTPUT.test(output)) return undefined;
  const declared = model.graph.outputs.find((v) => v.name === output)?.type;
  const shape = dims ?? (declared?.kind === 'tensor' ? declared.shape : undefined);
  return shape ? classColumns(shape) : Number.NaN;
}
