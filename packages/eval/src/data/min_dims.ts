/**
 * The smallest made-up signal length or image side a model accepts. Strided convolutions and
 * pools shrink their input: Moonshine's encoder (kernels 127/7/3, strides 64/3/2) turns 512 audio
 * samples into a zero-length sequence that onnxruntime refuses. Shape inference at a few sizes,
 * doubling from the default, finds the first at which every shape stays positive.
 */
import { type Graph, type Model, inferValueTypes, opsetVersion } from '@whittle/graph';
import { SYNTHETIC_IMAGE_DIM, SYNTHETIC_SIGNAL_DIM, imageAxes, signalAxes } from './input_axes.js';
import type { ModelInputSpec } from './source.js';

/** Doublings tried past the default (512 samples → 65536; a 224 image side → 28672 is never reached: 2048 caps). */
const DOUBLINGS = 7;
const IMAGE_CAP = 2048;

const cache = new WeakMap<Model, Map<string, Record<number, number> | null>>();

/** Values whose inferred shape has a dim ≤ 0, plus shape inference's issues, with `axes` of input `name` at `size`. */
function collapsed(model: Model, name: string, axes: readonly number[], size: number): number {
  const g = model.graph;
  const inputs = g.inputs.map((v) => (v.name === name && v.type?.kind === 'tensor' && v.type.shape ? { ...v, type: { ...v.type, shape: v.type.shape.map((d, k) => (axes.includes(k) ? size : d)) } } : v));
  const r = inferValueTypes({ ...g, inputs } as Graph, { opset: opsetVersion(model) ?? 21 });
  let n = r.issues.length;
  for (const t of r.types.values()) if (t.kind === 'tensor' && t.shape?.some((d) => typeof d === 'number' && d <= 0)) n++;
  return n;
}

/** Smallest size (the default doubled) of the signal / image axes of `spec` the model accepts, when the default is too small. */
function minimumOf(model: Model, spec: ModelInputSpec): Record<number, number> | undefined {
  const signal = signalAxes(spec);
  // only the axes the model leaves open (a fixed 1024×1024 input needs no probing)
  const axes = (signal.length ? signal : imageAxes(spec)).filter((k) => typeof spec.shape?.[k] !== 'number');
  if (!axes.length) return undefined;
  const start = signal.length ? SYNTHETIC_SIGNAL_DIM : SYNTHETIC_IMAGE_DIM;
  const base = collapsed(model, spec.name, axes, start);
  if (base === 0) return undefined;
  const sizes = Array.from({ length: DOUBLINGS }, (_, i) => start * 2 ** (i + 1)).filter((s) => signal.length || s <= IMAGE_CAP);
  // what stays wrong at the largest size is not the input's length (a malformed node elsewhere)
  const floor = collapsed(model, spec.name, axes, sizes[sizes.length - 1]!);
  if (floor >= base) return undefined;
  for (const size of sizes) {
    if (collapsed(model, spec.name, axes, size) === floor) return Object.fromEntries(axes.map((a) => [a, size]));
  }
  return undefined;
}

/**
 * `specs` with `minDims` on each signal or image input whose default made-up size the model's
 * strided layers reduce to nothing (see `ModelInputSpec.minDims`). Cached per model.
 */
export function withMinimumDims(model: Model, specs: ModelInputSpec[]): ModelInputSpec[] {
  let known = cache.get(model);
  if (!known) cache.set(model, (known = new Map()));
  return specs.map((spec) => {
    if (!known.has(spec.name)) known.set(spec.name, minimumOf(model, spec) ?? null);
    const min = known.get(spec.name);
    return min ? { ...spec, minDims: min } : spec;
  });
}
