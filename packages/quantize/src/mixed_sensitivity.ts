/**
 * Forwards of one model in which single weights are swapped per run, for sensitivity scans: the
 * weights become graph inputs fed on every run (the float ones, or a swapped variant) and one
 * session of the calibration runtime — onnxruntime when the context injects it, else Whittle's
 * interpreter — serves every run, instead of a rebuilt model per layer. They are moved out of the
 * initializers rather than listed as inputs too: onnxruntime-node feeds only the inputs its
 * session lists, and it does not list initializers that are also graph inputs.
 */
import {
  type ActivationRuntime,
  type ActivationSession,
  type CalibrationRuntimeChoice,
  type Feeds,
  type Logger,
  type Model,
  type ValueInfo,
  PassDataError,
  interpreterActivationRuntime,
  resolveActivationRuntime,
} from '@whittle/graph';
import { type BackendName, type Tensor, WhittleError } from '@whittle/tensor';

/** Options of {@link openWeightSwapSession}. */
export interface WeightSwapOptions {
  pass: string;
  activationRuntime?: ActivationRuntime | undefined;
  runtime?: CalibrationRuntimeChoice | undefined;
  backend?: BackendName | undefined;
  logger?: Logger | undefined;
}

/** One session over a model whose listed weights can be replaced per run. */
export interface WeightSwapSession {
  /** Name of the runtime the forwards run in. */
  readonly runtime: string;
  /** The graph outputs (float32, in graph output order) on `feeds` with `swap` replacing weights of the same name. */
  outputs(feeds: Feeds, swap?: Readonly<Record<string, Tensor>>): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** `model` with `weights` (main-graph float initializers) moved to graph inputs, and their float values. */
function withWeightInputs(model: Model, weights: readonly string[]): { model: Model; values: Record<string, Tensor> } {
  const g = model.graph;
  const inputs = new Set(g.inputs.map((i) => i.name));
  const initializers = new Map(g.initializers);
  const added: ValueInfo[] = [];
  const values: Record<string, Tensor> = {};
  for (const name of weights) {
    const t = g.initializers.get(name);
    if (!t || inputs.has(name)) continue;
    added.push({ name, type: { kind: 'tensor', elemType: 'float32', shape: [...t.shape] } });
    initializers.delete(name);
    values[name] = t;
    inputs.add(name);
  }
  return { model: { ...model, graph: { ...g, inputs: [...g.inputs, ...added], initializers } }, values };
}

/**
 * Open one session over `model` in which the float initializers `weights` can be swapped per run.
 * With 'auto', a model the injected runtime cannot load falls back to the interpreter (logged).
 */
export async function openWeightSwapSession(model: Model, weights: readonly string[], opts: WeightSwapOptions): Promise<WeightSwapSession> {
  const choice = opts.runtime ?? 'auto';
  const interpreter = interpreterActivationRuntime(opts.backend ?? 'cpu');
  let runtime = resolveActivationRuntime(opts.pass, choice, opts.activationRuntime) ?? interpreter;
  // a sequence or map output (skl2onnx's ZipMap) is no tensor to compare, and onnxruntime-node
  // fails a run that fetches one
  const names = model.graph.outputs.filter((o) => !o.type || o.type.kind === 'tensor').map((o) => o.name);
  const { model: swappable, values } = withWeightInputs(model, weights);
  let session: ActivationSession;
  try {
    session = await runtime.open(swappable, names);
  } catch (e) {
    if (choice !== 'auto' || runtime === interpreter) throw e;
    opts.logger?.warn(`${opts.pass}: ${runtime.name} could not load the model (${(e as Error).message}); using Whittle's interpreter`);
    runtime = interpreter;
    session = await interpreter.open(swappable, names);
  }
  const used = runtime;
  return {
    runtime: used.name,
    async outputs(feeds, swap) {
      let r;
      try {
        r = await session.run({ ...feeds, ...values, ...swap });
      } catch (e) {
        if (e instanceof WhittleError) throw e;
        const shapes = Object.entries(feeds).map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ');
        const err = new PassDataError(opts.pass, `${opts.pass}: ${used.name} could not run the model on a calibration batch (${shapes}): ${(e as Error).message.trim()}`);
        (err as Error & { cause?: unknown }).cause = e;
        throw err;
      }
      return names.map((n) => {
        const v = r.get(n);
        if (!v || !('data' in v)) throw new PassDataError(opts.pass, `${opts.pass}: ${used.name} returned no value for graph output '${n}'`);
        return v.data;
      });
    },
    close: () => session.close(),
  };
}
