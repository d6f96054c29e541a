/**
 * One segment of {@link runSequential} in an {@link ActivationRuntime} (onnxruntime in Node): the
 * segment's nodes as a model of their own — the values they read from earlier segments or the
 * feeds as graph inputs, only the initializers they read, the values passed on as outputs — run
 * on every batch in one session. Activation runtimes return float32 values, so only segments
 * whose values passed on are all float32 are run this way.
 */
import { type BackendName, type Tensor, tensor } from '@whittle/tensor';
import { createGraph, createModel } from '../ir/graph.js';
import type { Model, Node, ValueInfo, ValueType } from '../ir/types.js';
import { implicitInputs } from '../ir/uses.js';
import { PassDataError } from '../errors.js';
import type { Logger } from './contract.js';
import { throwIfAborted } from './context.js';
import type { ActivationRuntime, ActivationSession, ActivationValue, CalibrationRuntimeChoice } from './activations.js';

/**
 * The model of one segment, or undefined when a value it passes on is not known to be float32
 * (`typeOf`: the inferred types of the whole graph). `env` is one batch's values before the
 * segment runs: its tensors give the graph inputs' element types (dims left unknown, as batches
 * may differ in shape).
 */
export function segmentModel(model: Model, slice: readonly Node[], keep: ReadonlySet<string>, env: ReadonlyMap<string, Tensor>, typeOf: (name: string) => ValueType | undefined): Model | undefined {
  for (const name of keep) {
    const t = typeOf(name);
    if (t?.kind !== 'tensor' || t.elemType !== 'float32') return undefined;
  }
  const g = model.graph;
  const produced = new Set(slice.flatMap((n) => n.outputs));
  const initializers = new Map<string, Tensor>();
  const raw = new Map<string, NonNullable<ReturnType<typeof g.rawInitializers.get>>>();
  const inputs: ValueInfo[] = [];
  const seen = new Set<string>();
  for (const n of slice) {
    for (const r of [...n.inputs, ...implicitInputs(n)]) {
      if (!r || seen.has(r) || produced.has(r)) continue;
      seen.add(r);
      const init = g.initializers.get(r);
      const rawInit = g.rawInitializers.get(r);
      const fed = env.get(r);
      if (init) initializers.set(r, init);
      else if (rawInit) raw.set(r, rawInit);
      else if (fed) inputs.push({ name: r, type: { kind: 'tensor', elemType: fed.dtype as NonNullable<ValueType['elemType']>, shape: fed.shape.map(() => null) } });
    }
  }
  const outputs: ValueInfo[] = [...keep].map((name) => ({ name, type: { kind: 'tensor', elemType: 'float32' } }));
  return createModel(createGraph({ name: g.name, nodes: [...slice], inputs, outputs, initializers, rawInitializers: raw }), { opsetImports: model.opsetImports, irVersion: model.irVersion });
}

/** Options of {@link runSegmentIn}. */
export interface SegmentRunOptions {
  backend: BackendName;
  choice: CalibrationRuntimeChoice;
  pass: string;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}

/**
 * Run a segment model (from {@link segmentModel}) on every batch of `envs` and store the values of
 * `keep` in each. Returns false, having changed nothing, when there is no segment model or when
 * the runtime cannot load it under 'auto' (the caller then runs the segment in the interpreter).
 */
export async function runSegmentIn(runtime: ActivationRuntime, part: Model | undefined, keep: readonly string[], envs: readonly Map<string, Tensor>[], opts: SegmentRunOptions): Promise<boolean> {
  if (!part) return false;
  let session: ActivationSession;
  try {
    session = await runtime.open(part, keep);
  } catch (e) {
    if (opts.choice !== 'auto') throw e;
    opts.logger?.warn(`${opts.pass}: ${runtime.name} could not load a forward segment (${(e as Error).message}); running it in Whittle's interpreter`);
    return false;
  }
  try {
    const names = part.graph.inputs.map((i) => i.name);
    for (const env of envs) {
      throwIfAborted(opts.signal, opts.pass);
      const out = await session.run(Object.fromEntries(names.map((n) => [n, env.get(n)!])));
      for (const name of keep) {
        const v = out.get(name) as ActivationValue | undefined;
        if (!v || !('data' in v)) throw new PassDataError(opts.pass, `${opts.pass}: ${runtime.name} returned no value for '${name}' of a forward segment`);
        env.set(name, tensor(v.data, [...v.shape], 'float32', { backend: opts.backend }));
      }
    }
  } finally {
    await session.close();
  }
  return true;
}
