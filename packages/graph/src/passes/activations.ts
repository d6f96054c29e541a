/**
 * One way for every calibrating pass to see forward activations: the named intermediate values of
 * a model on each calibration batch, computed by an injected runtime (onnxruntime in Node, set by
 * the CLI / node entries) or by Whittle's interpreter. Several consumers ("statistic points", as in
 * NNCF) share one forward pass per batch.
 */
import { type BackendName, type Tensor, engine } from '@whittle/tensor';
import { PassDataError } from '../errors.js';
import type { Model } from '../ir/types.js';
import { runModel } from '../interpreter/run.js';
import type { Feeds, Logger } from './contract.js';
import { throwIfAborted } from './context.js';

/** A float32 view of one activation on one batch (row-major). */
export interface ActivationValue {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A session of an {@link ActivationRuntime} for one model and one list of fetched values. */
export interface ActivationSession {
  /** Run one batch; returns every fetched name the model produced. */
  run(feeds: Feeds): Promise<Map<string, ActivationValue>>;
  /** Release the session's resources. */
  close(): Promise<void>;
}

/**
 * Something that runs a model and returns intermediate values, e.g. onnxruntime with the values
 * added as graph outputs (see `ortActivationRuntime` in `@whittle/onnx`).
 */
export interface ActivationRuntime {
  /** Shown in reports and errors ('onnxruntime', 'interpreter', …). */
  readonly name: string;
  open(model: Model, fetch: readonly string[]): Promise<ActivationSession>;
}

/** Which runtime calibrating passes use: the injected one when there is one ('auto'), or force. */
export type CalibrationRuntimeChoice = 'auto' | 'interpreter' | 'onnxruntime';

/**
 * Calibration batches: a (re-iterable) iterable of feeds, or an object whose `batches()` returns a
 * fresh iterable each call.
 */
export type CalibrationSource = AsyncIterable<Feeds> | Iterable<Feeds> | { batches(): AsyncIterable<Feeds> | Iterable<Feeds> };

/** One consumer of activations: the values it needs and what it does with each batch's values. */
export interface StatisticPoint {
  readonly names: readonly string[];
  /** Called once per batch with the values of `names` (missing names are absent from the map). */
  consume(values: ReadonlyMap<string, ActivationValue>, batch: number): void | Promise<void>;
}

/** Calibration data was required but not given, or it held no batches. */
export class CalibrationDataError extends PassDataError {
  constructor(pass: string, message: string) {
    super(pass, message);
    this.name = 'CalibrationDataError';
  }
}

/** Options of {@link collectActivations}. */
export interface CollectActivationsOptions {
  /** Pass name for errors. */
  pass: string;
  /** Injected runtime (`ctx.activationRuntime`); used unless `runtime` is 'interpreter'. */
  activationRuntime?: ActivationRuntime | undefined;
  /** Default 'auto': the injected runtime when present, else the interpreter. */
  runtime?: CalibrationRuntimeChoice | undefined;
  /** Interpreter backend (default 'cpu'). */
  backend?: BackendName | undefined;
  signal?: AbortSignal | undefined;
  maxBatches?: number | undefined;
  onBatch?: ((batch: number) => void) | undefined;
  /** Told when 'auto' falls back to the interpreter because the injected runtime failed to load the model. */
  logger?: Logger | undefined;
  /** Throw {@link CalibrationDataError} when there were no batches (default true). */
  requireBatches?: boolean | undefined;
}

/** Iterate a {@link CalibrationSource} from its start. */
export function calibrationBatches(source: CalibrationSource): AsyncIterable<Feeds> | Iterable<Feeds> {
  return 'batches' in source && typeof source.batches === 'function' ? source.batches() : (source as AsyncIterable<Feeds> | Iterable<Feeds>);
}

/** The runtime a choice resolves to (undefined: the interpreter). */
export function resolveActivationRuntime(pass: string, choice: CalibrationRuntimeChoice, injected: ActivationRuntime | undefined): ActivationRuntime | undefined {
  if (choice === 'interpreter') return undefined;
  if (choice === 'onnxruntime' && !injected) {
    throw new PassDataError(pass, `${pass}: calibrationRuntime 'onnxruntime' was asked for but no onnxruntime activation runtime is set in the pass context (it is set by the Node entry points, e.g. the CLI)`);
  }
  return injected;
}

/** Whittle's interpreter as an {@link ActivationRuntime}. */
export function interpreterActivationRuntime(backend: BackendName = 'cpu'): ActivationRuntime {
  return {
    name: 'interpreter',
    async open(model, fetch) {
      const inputs = new Set(model.graph.inputs.map((i) => i.name));
      return {
        async run(feeds) {
          const out = await engine().noGradAsync(() => runModel(model, feeds, { backend, fetch }));
          const res = new Map<string, ActivationValue>();
          const fed = new Set<Tensor>(Object.values(feeds));
          for (const name of fetch) {
            const t = out.get(name) ?? (inputs.has(name) ? feeds[name] : undefined);
            if (!t) continue;
            const d = await t.data();
            res.set(name, { data: d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>, Number), shape: t.shape });
          }
          for (const t of new Set(out.values())) if (!fed.has(t)) t.dispose();
          return res;
        },
        async close() {},
      };
    },
  };
}

/**
 * Run the model once per calibration batch and hand every {@link StatisticPoint} its values. The
 * union of all points' names is fetched in one forward pass. Returns the number of batches run.
 * Throws {@link CalibrationDataError} when `data` is undefined or (unless `requireBatches` is
 * false) empty.
 */
export async function collectActivations(model: Model, points: readonly StatisticPoint[], data: CalibrationSource | undefined, opts: CollectActivationsOptions): Promise<number> {
  if (!data) throw new CalibrationDataError(opts.pass, `${opts.pass}: needs calibration data (ctx.calibration / --data): none was given`);
  const fetch = [...new Set(points.flatMap((p) => p.names))];
  const choice = opts.runtime ?? 'auto';
  const interpreter = interpreterActivationRuntime(opts.backend ?? 'cpu');
  const runtime = resolveActivationRuntime(opts.pass, choice, opts.activationRuntime) ?? interpreter;
  let session: ActivationSession;
  try {
    session = await runtime.open(model, fetch);
  } catch (e) {
    // 'auto' keeps working on models the injected runtime cannot load (e.g. over 2 GB, custom ops)
    if (choice !== 'auto' || runtime === interpreter) throw e;
    opts.logger?.warn(`${opts.pass}: ${runtime.name} could not load the model for calibration (${(e as Error).message}); using Whittle's interpreter`);
    session = await interpreter.open(model, fetch);
  }
  let batch = 0;
  try {
    for await (const feeds of calibrationBatches(data) as AsyncIterable<Feeds>) {
      if (opts.maxBatches !== undefined && batch >= opts.maxBatches) break;
      throwIfAborted(opts.signal, opts.pass);
      const values = await session.run(feeds);
      for (const p of points) {
        const sub = new Map<string, ActivationValue>();
        for (const n of p.names) {
          const v = values.get(n);
          if (v) sub.set(n, v);
        }
        await p.consume(sub, batch);
      }
      batch++;
      opts.onBatch?.(batch);
    }
  } finally {
    await session.close();
  }
  if (!batch && opts.requireBatches !== false) throw new CalibrationDataError(opts.pass, `${opts.pass}: the calibration data is empty`);
  return batch;
}
