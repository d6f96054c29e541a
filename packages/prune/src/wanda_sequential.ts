import { type ActivationRuntime, type CalibrationRuntimeChoice, type CalibrationSource, type Logger, type Model, CalibrationDataError, calibrationBatches, runSequential } from '@whittle/graph';
import { ArgumentError, type BackendName } from '@whittle/tensor';
import { type InputNorms, inputNormsPoint } from './activations.js';
import { type PrunableWeight, cpuTensor, floatValues, weightKey } from './layers.js';
import { type MaskOptions, type Masks, computeMasks } from './masks.js';

/** Options of {@link sequentialWandaMasks}. */
export interface SequentialWandaOptions {
  backend?: BackendName | undefined;
  signal?: AbortSignal | undefined;
  maxBatches?: number | undefined;
  onStage?: ((fraction: number) => void) | undefined;
  /** Runtime of the forward segments (`ctx.activationRuntime`, e.g. onnxruntime in Node). */
  activationRuntime?: ActivationRuntime | undefined;
  /** 'auto' (default): `activationRuntime` when given, else the interpreter. */
  calibrationRuntime?: CalibrationRuntimeChoice | undefined;
  /** Told when 'auto' runs a segment in the interpreter because the runtime could not load it. */
  logger?: Logger | undefined;
  /** Pass name for errors and warnings (default 'prune'). */
  pass?: string | undefined;
}

/**
 * Wanda masks computed in graph order, as the official Wanda code does block by block: the input
 * norms of each weight come from the activations of the already-pruned earlier layers (so a later
 * layer is scored on what it will actually see). The forward segments run in
 * `opts.activationRuntime` (onnxruntime in Node) when given, else in the interpreter. Zeroes the
 * pruned weights of `model` in place (pass a clone) and returns the masks. Main-graph weights
 * only; scope 'global' is refused (it needs every layer's scores at once).
 */
export async function sequentialWandaMasks(
  model: Model,
  weights: readonly PrunableWeight[],
  calibration: CalibrationSource | undefined,
  maskOpts: Omit<MaskOptions, 'norms' | 'method'>,
  opts: SequentialWandaOptions = {},
): Promise<Masks> {
  if (!calibration) throw new CalibrationDataError('prune', 'Wanda scores need calibration data (ctx.calibration / calibration option): none was given');
  if (maskOpts.scope === 'global') throw new ArgumentError("sequential Wanda prunes layer by layer: scope 'global' needs every layer's scores at once (use sequential: false)");
  const masks: Masks = new Map();
  const inputs = [...new Set(weights.map((w) => w.input))];
  let done = 0;
  await runSequential(
    model,
    inputs,
    calibrationBatches(calibration),
    async (name, values) => {
      const here = weights.filter((w) => w.input === name);
      const norms = new Map<string, InputNorms>();
      const point = inputNormsPoint(model, here, norms);
      for (const [b, t] of values.entries()) await point.consume(new Map([[name, { data: await floatValues(t), shape: t.shape }]]), b);
      const m = await computeMasks(model, here, { ...maskOpts, method: 'wanda', norms });
      // zero now: the nodes reading these weights run next, on the pruned values
      for (const w of here) {
        const mask = m.get(weightKey(w))!;
        const v = await floatValues(model.graph.initializers.get(w.weight)!);
        for (let i = 0; i < v.length; i++) if (!mask[i]) v[i] = 0;
        model.graph.initializers.set(w.weight, cpuTensor(v, w.shape, w.dtype));
        masks.set(weightKey(w), mask);
      }
      opts.onStage?.(++done / inputs.length);
    },
    { pass: opts.pass ?? 'prune', activationRuntime: opts.activationRuntime, runtime: opts.calibrationRuntime, logger: opts.logger, ...(opts.backend ? { backend: opts.backend } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.maxBatches !== undefined ? { maxBatches: opts.maxBatches } : {}) },
  );
  return masks;
}
