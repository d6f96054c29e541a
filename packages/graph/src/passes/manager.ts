import { Rng, type Tensor } from '@whittle/tensor';
import { assertModel } from '../ir/assert_model.js';
import { GraphValidationError, NoCompressionError, OutputMismatchError, PassAbortedError, RecipeError } from '../errors.js';
import { castDequantizedWeights, integerWeightLayers } from '../analysis/integer_weights.js';
import { attributeWeightLayers } from '../analysis/attribute_weights.js';
import { validateModel } from '../analysis/validate.js';
import { weightBytes } from '../analysis/weight_bytes.js';
import { type DecomposedFusedInScope, type NormalizeOptions, normalizeModel } from '../normalize/normalize.js';
import { recomposeFusedWeightOps } from '../normalize/decompose_fused.js';
import { cloneModel } from '../ir/graph.js';
import { graphScopes } from '../ir/scopes.js';
import type { Model } from '../ir/types.js';
import { type PassContextInit, createPassContext, throwIfAborted } from './context.js';
import type { AnyPass, Feeds, PassReport } from './contract.js';
import { type Recipe, type ResolvedStep, parseRecipe, resolveRecipe, resolveStep } from './recipe.js';

/** Runs a model on feeds and returns its outputs by name (the interpreter plugs one in). */
export type ModelEvaluator = (model: Model, feeds: Feeds) => Promise<Record<string, Tensor>>;

let defaultEvaluator: ModelEvaluator | undefined;

/** Set the evaluator used by output checks when none is given. Returns the previous one. */
export function setModelEvaluator(fn: ModelEvaluator | undefined): ModelEvaluator | undefined {
  const prev = defaultEvaluator;
  defaultEvaluator = fn;
  return prev;
}

/** Compare the transformed model's outputs with the original's on sample inputs. */
export interface CheckOptions {
  /** One feed set or several. */
  inputs: Feeds | Feeds[];
  /** Absolute tolerance, or `{ rtol, atol }` (|a − b| ≤ atol + rtol·|b|). Default rtol 1e-3, atol 1e-5. */
  tolerance?: number | { rtol?: number; atol?: number };
  /** Evaluator (default: the one set by {@link setModelEvaluator}). */
  evaluator?: ModelEvaluator;
  /** Throw {@link OutputMismatchError} when an output differs (default true). */
  throwOnMismatch?: boolean;
}

/** Per-output result of a check. */
export interface OutputComparison {
  output: string;
  maxAbsDiff: number;
  maxRelDiff: number;
  passed: boolean;
}

/** Result of a check. */
export interface CheckResult {
  passed: boolean;
  rtol: number;
  atol: number;
  outputs: OutputComparison[];
}

/** One executed step. */
export interface StepReport {
  step: number;
  pass: string;
  options: Record<string, unknown>;
  report: PassReport;
  durationMs: number;
}

/** What a run achieved, measured on the stored weights (initializers and Constant tensors, subgraphs included). */
export interface RunOutcome {
  /** Some step reported a change. */
  changed: boolean;
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** Why the run did not compress (no change, or weights grew); absent when it did. */
  reason?: string;
}

/** What {@link runRecipe} returns. */
export interface RecipeResult {
  name?: string;
  model: Model;
  /** What the front end (normalize) did before the first step; absent when it was off. */
  frontEnd?: PassReport;
  steps: StepReport[];
  outcome: RunOutcome;
  check?: CheckResult;
}

/** Options of {@link runRecipe}: the pass context plus front end, validation and output checking. */
export interface RunRecipeOptions extends PassContextInit {
  /** Validate the model after each pass (default true). */
  validate?: boolean;
  check?: CheckOptions;
  /**
   * The canonical front end ({@link normalizeModel}) run before the first step, so techniques see
   * plain initializers (Constant/Identity/Transpose-wrapped weights, weights inside subgraphs,
   * BatchNorm folded): true (default), normalize options, or false to keep the graph untouched.
   * Not run again when the first step is 'normalize' itself.
   */
  frontEnd?: boolean | Partial<NormalizeOptions>;
  /**
   * Throw {@link NoCompressionError} when no step changed the model or the stored weights grew
   * (default false: the outcome is only reported in {@link RecipeResult.outcome}).
   */
  requireCompression?: boolean;
}

/**
 * Run a recipe (object, JSON or YAML string): resolve every pass and option first (a bad step
 * throws {@link RecipeError} before anything runs), run the passes in order, validate the model
 * after each, stop on abort, collect reports, and optionally compare outputs with the original.
 */
export async function runRecipe(model: Model, recipe: string | Recipe, opts: RunRecipeOptions = {}): Promise<RecipeResult> {
  const r = parseRecipe(recipe);
  const result = await runSteps(model, resolveRecipe(r), opts);
  if (r.name !== undefined) result.name = r.name;
  return result;
}

/**
 * Why a run may have found little to compress: the input's layers that already hold integer
 * weights (quantized elsewhere), which the passes leave as they are; '' when there are none.
 */
function alreadyQuantizedNote(model: Model): string {
  const layers = Object.entries(integerWeightLayers(model));
  if (layers.length === 0) return '';
  const total = layers.reduce((a, [, n]) => a + n, 0);
  const list = layers.map(([op, n]) => `${n} ${op}`).join(', ');
  return `; the model is already quantized: ${total} layer(s) hold integer weights (${list}), which the passes do not compress again (run them on the float model)`;
}

/**
 * Why the stored weights may have grown: weights the input stores as integers and dequantizes in
 * the graph (Cast to float), which the front end folded into float32 initializers; '' when there
 * are none.
 */
function castDequantizedNote(model: Model): string {
  const w = Object.entries(castDequantizedWeights(model));
  if (w.length === 0) return '';
  const total = w.reduce((a, [, n]) => a + n, 0);
  return `; ${total} weight(s) are stored as integers (${w.map(([t, n]) => `${n} ${t}`).join(', ')}) and dequantized in the graph (Cast to float), which the front end folds into float32 initializers larger than their stored form: the stored weights grow unless a pass compresses those below their integer size (--no-front-end leaves them as stored)`;
}

/**
 * Why a run may have found nothing to compress: estimators that hold their learned parameters in
 * ai.onnx.ml attributes (skl2onnx's LinearClassifier, TreeEnsembleClassifier, ...), which no pass
 * compresses; '' when there are none.
 */
function attributeWeightsNote(model: Model): string {
  const ops = Object.entries(attributeWeightLayers(model));
  if (ops.length === 0) return '';
  const list = ops.map(([op, e]) => `${e.nodes} ${op} (${e.floats} floats)`).join(', ');
  return `; the model's ${list} hold${ops.length === 1 && ops[0]![1].nodes === 1 ? 's' : ''} learned parameters as ai.onnx.ml node attributes, not as float initializers read by MatMul/Gemm/Conv/Gather, so the compression passes leave them as they are`;
}

async function runSteps(model: Model, steps: ResolvedStep[], opts: RunRecipeOptions): Promise<RecipeResult> {
  assertModel(model, 'runRecipe');
  const seed = opts.seed ?? 0;
  const reports: StepReport[] = [];
  let current = model;
  let frontEnd: PassReport | undefined;
  let decomposedFused: DecomposedFusedInScope[] = [];
  if (opts.frontEnd !== false && steps[0]?.pass.name !== 'normalize') {
    throwIfAborted(opts.signal, 'front end (normalize)');
    const r = await normalizeModel(model, opts.frontEnd === true || opts.frontEnd === undefined ? {} : opts.frontEnd, opts.signal);
    current = r.model;
    frontEnd = r.report;
    decomposedFused = r.decomposedFused;
    opts.logger?.info(`front end: ${r.report.summary}`);
  }
  for (const s of steps) {
    const where = `recipe step ${s.index} (pass '${s.pass.name}')`;
    throwIfAborted(opts.signal, where);
    const ctx = createPassContext({ ...opts, seed }, s.options);
    ctx.rng = new Rng((seed + Math.imul(s.index + 1, 0x9e3779b9)) >>> 0);
    ctx.onProgress = (f, msg) => opts.onProgress?.((s.index + Math.min(Math.max(f, 0), 1)) / steps.length, `${s.pass.name}${msg ? `: ${msg}` : ''}`);
    ctx.onProgress(0);
    const t0 = Date.now();
    let out;
    try {
      out = await s.pass.run(current, ctx);
    } catch (e) {
      if (e instanceof PassAbortedError) throw e;
      if (opts.signal?.aborted) throw new PassAbortedError(`${where}: aborted`);
      throw new RecipeError(`${where} failed: ${(e as Error).message}`, { step: s.index, pass: s.pass.name }, e);
    }
    if (opts.validate !== false) {
      try {
        validateModel(out.model);
      } catch (e) {
        if (!(e instanceof GraphValidationError)) throw e;
        throw new RecipeError(`${where} produced an invalid model: ${e.message}`, { step: s.index, pass: s.pass.name }, e);
      }
    }
    reports.push({ step: s.index, pass: s.pass.name, options: s.rawOptions, report: out.report, durationMs: Date.now() - t0 });
    opts.logger?.info(`${where}: ${out.report.summary}`);
    ctx.onProgress(1);
    current = out.model;
  }
  // fused ops whose weight no step changed in form go back to onnxruntime's fused layout
  if (decomposedFused.length) current = recomposeFused(current, decomposedFused);
  const outcome = assessOutcome(model, current, reports);
  if (opts.requireCompression && outcome.reason !== undefined) throw new NoCompressionError(`nothing compressed: ${outcome.reason}${alreadyQuantizedNote(model)}${outcome.weightBytesAfter > outcome.weightBytesBefore ? castDequantizedNote(model) : ''}${attributeWeightsNote(model)}`, outcome.reason);
  const result: RecipeResult = { model: current, steps: reports, outcome };
  if (frontEnd) result.frontEnd = frontEnd;
  if (opts.check) result.check = await checkOutputs(model, current, opts.check);
  return result;
}

function recomposeFused(model: Model, decomposed: readonly DecomposedFusedInScope[]): Model {
  const m = cloneModel(model);
  const scopes = new Map(graphScopes(m.graph).map((s) => [s.path, s.graph]));
  for (const d of decomposed) {
    const g = scopes.get(d.path);
    if (g) recomposeFusedWeightOps(g, d.records);
  }
  return m;
}

function assessOutcome(before: Model, after: Model, steps: StepReport[]): RunOutcome {
  const o: RunOutcome = { changed: steps.some((s) => s.report.changed), weightBytesBefore: weightBytes(before), weightBytesAfter: weightBytes(after) };
  const said = steps.map((s) => `${s.pass}: ${String(s.report.details?.reason ?? s.report.summary)}`).join('; ');
  if (!o.changed) o.reason = steps.length ? `no step changed the model (${said})` : 'the recipe has no steps';
  else if (o.weightBytesAfter > o.weightBytesBefore) o.reason = `the stored weights grew from ${o.weightBytesBefore} to ${o.weightBytesAfter} bytes (${said})`;
  return o;
}

/** Compare outputs of `transformed` with `original` on the check's inputs. */
export async function checkOutputs(original: Model, transformed: Model, check: CheckOptions): Promise<CheckResult> {
  const evaluator = check.evaluator ?? defaultEvaluator;
  if (!evaluator) {
    throw new RecipeError('output check needs an evaluator: pass check.evaluator or call setModelEvaluator() (the interpreter provides one)');
  }
  const tol = typeof check.tolerance === 'number' ? { atol: check.tolerance, rtol: 0 } : check.tolerance ?? {};
  const rtol = tol.rtol ?? 1e-3;
  const atol = tol.atol ?? 1e-5;
  const feedsList = Array.isArray(check.inputs) ? check.inputs : [check.inputs];
  const acc = new Map<string, OutputComparison>();
  for (const feeds of feedsList) {
    const a = await evaluator(original, feeds);
    const b = await evaluator(transformed, feeds);
    for (const o of original.graph.outputs) {
      const c = acc.get(o.name) ?? { output: o.name, maxAbsDiff: 0, maxRelDiff: 0, passed: true };
      acc.set(o.name, c);
      const x = a[o.name];
      const y = b[o.name];
      if (!x || !y || x.size !== y.size || x.shape.join(',') !== y.shape.join(',')) {
        c.passed = false;
        c.maxAbsDiff = Infinity;
        continue;
      }
      const xv = await x.toFloat64();
      const yv = await y.toFloat64();
      for (let i = 0; i < xv.length; i++) {
        const want = xv[i]!;
        const got = yv[i]!;
        if (Number.isNaN(want) && Number.isNaN(got)) continue;
        const d = Math.abs(got - want);
        const rel = d / Math.max(Math.abs(want), 1e-30);
        if (!(d <= c.maxAbsDiff)) c.maxAbsDiff = d;
        if (!(rel <= c.maxRelDiff)) c.maxRelDiff = rel;
        if (!(d <= atol + rtol * Math.abs(want))) c.passed = false;
      }
    }
  }
  const outputs = [...acc.values()];
  const result: CheckResult = { passed: outputs.every((o) => o.passed), rtol, atol, outputs };
  if (!result.passed && check.throwOnMismatch !== false) {
    const bad = outputs.filter((o) => !o.passed).map((o) => `'${o.output}' (max abs diff ${o.maxAbsDiff.toExponential(3)})`);
    throw new OutputMismatchError(`outputs differ from the original beyond rtol ${rtol}, atol ${atol}: ${bad.join(', ')}`);
  }
  return result;
}

/**
 * Programmatic recipe builder: `new PassManager().add('normalize').add(myPass, { … }).run(model)`.
 * Pass objects need not be registered.
 */
export class PassManager {
  private readonly steps: { pass: AnyPass | string; options: Record<string, unknown> }[] = [];
  constructor(private readonly opts: RunRecipeOptions = {}) {}

  /** Append a step. */
  add(pass: AnyPass | string, options: Record<string, unknown> = {}): this {
    this.steps.push({ pass, options });
    return this;
  }

  /** Run the steps on `model` (options override the constructor's). */
  async run(model: Model, opts: RunRecipeOptions = {}): Promise<RecipeResult> {
    const resolved = this.steps.map((s, index) => resolveStep(s.pass, s.options, index));
    return runSteps(model, resolved, { ...this.opts, ...opts });
  }
}

/**
 * Compress a model: {@link runRecipe} with the front end on and outcomes enforced — a run in which
 * no step changed the model, or whose weights grew, throws {@link NoCompressionError} naming what
 * each pass found. The entry point for "make this model smaller".
 */
export async function compressModel(model: Model, recipe: string | Recipe, opts: RunRecipeOptions = {}): Promise<RecipeResult> {
  return runRecipe(model, recipe, { requireCompression: true, ...opts });
}
