import { accuracyFromScores } from '@whittle/eval';
import { outputFidelity } from './ort_output.js';
import { ortOutputs, resolveOrtRuntime } from './ort_web.js';
import type { EvaluateResult, Job, VariantEval } from './protocol.js';
import { sizeOf } from './size.js';

type EvaluateJob = Extract<Job, { kind: 'evaluate' }>;

/**
 * Size (file, gzip, parameters, sparsity) and, in onnxruntime-web, accuracy (labeled data) and
 * fidelity against the reference outputs (the first variant's unless given) of each variant.
 */
export async function evaluateVariants(job: EvaluateJob, signal: AbortSignal, onProgress: (f: number, m: string) => void): Promise<EvaluateResult> {
  let reference = job.reference;
  let classes = 0;
  const results: VariantEval[] = [];
  const total = job.variants.length;
  const runtime = await resolveOrtRuntime(job.ort);
  for (const [i, v] of job.variants.entries()) {
    onProgress(i / total, `${v.name}: size`);
    // sizes come with the variant's analysis; measured here only when not given
    const { size, gzipMethod } = v.size ? { size: v.size, gzipMethod: v.gzipMethod ?? 'fflate' } : await sizeOf(v.bytes);
    let out;
    try {
      out = await ortOutputs(v.bytes, job.data, { batchSize: job.batchSize, ep: runtime.ep, cache: true, signal, onBatch: (d, n) => onProgress((i + d / n) / total, `${v.name}: ${d}/${n} samples`) });
    } catch (e) {
      if (signal.aborted) throw e;
      // a model onnxruntime-web rejects is a result to show, not a reason to lose the others
      results.push({ name: v.name, size, gzipMethod, samples: 0, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    classes = out.classes;
    const samples = out.values.length / Math.max(1, out.classes);
    const r: VariantEval = { name: v.name, size, gzipMethod, samples, timing: { createMs: out.createMs, runMs: out.runMs, samples } };
    if (job.data.labels) r.accuracy = accuracyFromScores(out.values, job.data.labels, out.classes);
    // without a given reference the first variant (the original) is the reference
    if (i === 0 && !job.reference) reference = out.values;
    else if (reference) r.fidelity = outputFidelity(reference, out.values, out.lastDim);
    results.push(r);
  }
  return { results, reference: reference ?? new Float32Array(0), classes, runtime: runtime.label };
}
