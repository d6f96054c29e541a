import { type ActivationRuntime, runRecipe } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import { selectBackend } from './backend.js';
import { passContextData } from './pass_data.js';
import type { CompressResult, Job } from './protocol.js';

type CompressJob = Extract<Job, { kind: 'compress' }>;

/**
 * Run a recipe through @whittle/graph's runRecipe (passes found in the registry by name) on the
 * chosen backend; calibration forwards in `activationRuntime` when given (onnxruntime-web in the
 * worker; where it cannot load a model, the interpreter).
 */
export async function compress(job: CompressJob, signal: AbortSignal, onProgress: (f: number, m: string) => void, activationRuntime?: ActivationRuntime): Promise<CompressResult> {
  const t0 = performance.now();
  const backend = await selectBackend(job.backend);
  const model = readModel(job.model);
  // as the command line: a run that changed nothing or grew the weights is a NoCompressionError, not a variant
  const r = await runRecipe(model, job.recipe, { seed: job.seed, backend: backend.name, signal, requireCompression: true, ...(activationRuntime ? { activationRuntime } : {}), onProgress: (f, m) => onProgress(f, m ?? ''), ...passContextData(job.data) });
  return {
    bytes: writeModel(r.model),
    steps: r.steps.map((s) => ({ step: s.step, pass: s.pass, options: s.options, summary: s.report.summary, warnings: s.report.warnings ?? [], changed: s.report.changed, durationMs: s.durationMs })),
    backend,
    durationMs: performance.now() - t0,
  };
}
