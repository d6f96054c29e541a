/**
 * One way for every calibrating pass to see forward activations: the named intermediate values of
 * a model on each calibration batch, computed by an injected runtime (onnxruntime in Node, set by
 * the CLI / node entries) or by Whittle's interpreter. Several consumers ("statistic points", as in
 * NNCF) share one forward pass per batch.
 */
import { type BackendName, type Tensor, WhittleError, engine, float16ToFloat32Array } from '@whittle/tensor';
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

/**
 * The range of one activation on one batch: min and max with NaN values skipped (+Infinity and
 * -Infinity when every value is NaN) and the element count.
 */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
  readonly count: number;
  /** Largest finite |x| (0 when none), when `smallBelow` was asked for. */
  readonly maxAbs?: number;
  /** Finite nonzero entries, when `smallBelow` was asked for. */
  readonly nonzero?: number;
  /** Of the finite nonzero entries, those with |x| below `smallBelow`, when it was asked for. */
  readonly small?: number;
}

/** Options of {@link ActivationRuntime.open}. */
export interface ActivationOpenOptions {
  /**
   * Values of which only the range is needed (not also in `fetch`): the session may return an
   * {@link ActivationRange} for them — reduced where they are computed, so they are never copied
   * out — or their values, as for `fetch`.
   */
  readonly ranges?: readonly string[] | undefined;
  /**
   * Also count, per range, the finite nonzero entries and those with |x| below this (and the
   * largest finite |x|): float16's smallest normal number for `convert-float16`, which would
   * otherwise need every value copied out.
   */
  readonly smallBelow?: number | undefined;
}

/** A session of an {@link ActivationRuntime} for one model and one list of fetched values. */
export interface ActivationSession {
  /** Run one batch; returns every fetched (or range-only) name the model produced. */
  run(feeds: Feeds): Promise<Map<string, ActivationValue | ActivationRange>>;
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
  open(model: Model, fetch: readonly string[], opts?: ActivationOpenOptions): Promise<ActivationSession>;
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
  /**
   * Set when the point needs only each value's range: called instead of `consume`, so a runtime
   * able to reduce in place (onnxruntime) does not copy the values out. The ranges are those
   * {@link activationRange} computes from the values.
   */
  consumeRanges?(ranges: ReadonlyMap<string, ActivationRange>, batch: number): void | Promise<void>;
  /** With `consumeRanges`: the ranges also count small entries (see {@link ActivationOpenOptions.smallBelow}). */
  readonly smallBelow?: number;
}

/**
 * Min and max of `v` with NaN values skipped (+Infinity and -Infinity when there are none), and its
 * length; with `smallBelow`, also the largest finite |x| and the counts of finite nonzero entries
 * and of those below it.
 */
export function activationRange(v: Float32Array, smallBelow?: number): ActivationRange {
  if (smallBelow !== undefined) {
    let maxAbs = 0;
    let nonzero = 0;
    let small = 0;
    for (let i = 0; i < v.length; i++) {
      const a = Math.abs(v[i]!);
      if (a === 0 || a === Infinity || a !== a) continue;
      nonzero++;
      if (a > maxAbs) maxAbs = a;
      if (a < smallBelow) small++;
    }
    return { ...activationRange(v), maxAbs, nonzero, small };
  }
  // Math.min/max compile to branchless min/max (2-3x the compare-and-branch loop); they propagate
  // NaN, so a NaN result falls back to the loop that skips NaN values
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  if (lo !== lo || hi !== hi) {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return { min: lo, max: hi, count: v.length };
}

const isRange = (v: ActivationValue | ActivationRange): v is ActivationRange => !('data' in v);

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
    async open(model, names, opts) {
      const inputs = new Set(model.graph.inputs.map((i) => i.name));
      const fetch = [...new Set([...names, ...(opts?.ranges ?? [])])];
      return {
        async run(feeds) {
          const out = await engine().noGradAsync(() => runModel(model, feeds, { backend, fetch, fetchOnly: true }));
          const res = new Map<string, ActivationValue | ActivationRange>();
          const fed = new Set<Tensor>(Object.values(feeds));
          for (const name of fetch) {
            const t = out.get(name) ?? (inputs.has(name) ? feeds[name] : undefined);
            if (!t) continue;
            // float16 and integer values decoded (a float16 tensor's storage is its half-float bits)
            const d = await t.data();
            const data = t.dtype === 'float32' ? (d as Float32Array) : t.dtype === 'float16' ? float16ToFloat32Array(d as Uint16Array) : Float32Array.from(await t.toFloat64());
            res.set(name, { data, shape: t.shape });
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
 * One batch through the session. A runtime that cannot run the model on the batch (a shape the
 * model does not accept, such as a spatial size its strides or upsampling cannot take) fails with
 * an error that names the batch and the shapes fed, as the runtime's own message names neither.
 */
async function runBatch(session: ActivationSession, runtime: string, feeds: Feeds, batch: number, opts: CollectActivationsOptions): Promise<Map<string, ActivationValue | ActivationRange>> {
  try {
    return await session.run(feeds);
  } catch (e) {
    if (e instanceof WhittleError || opts.signal?.aborted) throw e;
    const shapes = Object.entries(feeds).map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ');
    const msg = (e as Error).message.replace(/\s+$/, '');
    const err = new CalibrationDataError(opts.pass, `${opts.pass}: ${runtime} could not run the model on calibration batch ${batch} (${shapes}): ${msg}; the calibration samples must have shapes the model accepts`);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
}

/**
 * Run the model once per calibration batch and hand every {@link StatisticPoint} its values (or,
 * for points with `consumeRanges`, their ranges). The union of all points' names is computed in one
 * forward pass; names only range-only points ask for are asked of the runtime as ranges. Returns
 * the number of batches run.
 * Throws {@link CalibrationDataError} when `data` is undefined or (unless `requireBatches` is
 * false) empty.
 */
export async function collectActivations(model: Model, points: readonly StatisticPoint[], data: CalibrationSource | undefined, opts: CollectActivationsOptions): Promise<number> {
  if (!data) throw new CalibrationDataError(opts.pass, `${opts.pass}: needs calibration data (ctx.calibration / --data): none was given`);
  // values some point needs in full are fetched; the rest of the range-only points' names are asked as ranges
  const fetch = [...new Set(points.filter((p) => !p.consumeRanges).flatMap((p) => p.names))];
  const fetched = new Set(fetch);
  const ranges = [...new Set(points.filter((p) => p.consumeRanges).flatMap((p) => p.names))].filter((n) => !fetched.has(n));
  const choice = opts.runtime ?? 'auto';
  const interpreter = interpreterActivationRuntime(opts.backend ?? 'cpu');
  const runtime = resolveActivationRuntime(opts.pass, choice, opts.activationRuntime) ?? interpreter;
  const smallBelow = points.find((p) => p.consumeRanges && p.smallBelow !== undefined)?.smallBelow;
  const openOpts: ActivationOpenOptions = { ranges, ...(smallBelow !== undefined ? { smallBelow } : {}) };
  let session: ActivationSession;
  try {
    session = await runtime.open(model, fetch, openOpts);
  } catch (e) {
    // 'auto' keeps working on models the injected runtime cannot load (e.g. over 2 GB, custom ops)
    if (choice !== 'auto' || runtime === interpreter) throw e;
    opts.logger?.warn(`${opts.pass}: ${runtime.name} could not load the model for calibration (${(e as Error).message}); using Whittle's interpreter`);
    session = await interpreter.open(model, fetch, openOpts);
  }
  let batch = 0;
  try {
    for await (const feeds of calibrationBatches(data) as AsyncIterable<Feeds>) {
      if (opts.maxBatches !== undefined && batch >= opts.maxBatches) break;
      throwIfAborted(opts.signal, opts.pass);
      const values = await runBatch(session, runtime.name, feeds, batch, opts);
      // ranges of values returned in full are reduced here, once per batch for all points
      const reduced = new Map<string, ActivationRange>();
      const rangeOf = (n: string): ActivationRange | undefined => {
        const v = values.get(n);
        if (!v || isRange(v)) return v;
        let r = reduced.get(n);
        if (!r) reduced.set(n, (r = activationRange(v.data, smallBelow)));
        return r;
      };
      for (const p of points) {
        if (p.consumeRanges) {
          const sub = new Map<string, ActivationRange>();
          for (const n of p.names) {
            const r = rangeOf(n);
            if (r) sub.set(n, r);
          }
          await p.consumeRanges(sub, batch);
          continue;
        }
        const sub = new Map<string, ActivationValue>();
        for (const n of p.names) {
          const v = values.get(n);
          if (v && !isRange(v)) sub.set(n, v);
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
