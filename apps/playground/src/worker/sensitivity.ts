import { readModel, writeModel } from '@whittle/onnx';
import { applyMasks, computeMasks, findPrunableWeights, type PrunableWeight } from '@whittle/prune';
import { withConstantWeights } from './analyze.js';
import { outputFidelity } from './ort_output.js';
import { ortOutputs, resolveOrtRuntime } from './ort_web.js';
import type { Job, SensitivityReport } from './protocol.js';

type SensitivityJob = Extract<Job, { kind: 'sensitivity' }>;

/** The `max` largest prunable weights, kept in graph order. */
export function sampleLayers(weights: readonly PrunableWeight[], max: number): PrunableWeight[] {
  if (weights.length <= max) return [...weights];
  const keep = new Set([...weights].sort((a, b) => b.rows * b.cols - a.rows * a.cols).slice(0, max));
  return weights.filter((w) => keep.has(w));
}

/**
 * Per-layer sensitivity with forward passes in onnxruntime-web (the evaluation runtime): each
 * measured layer alone magnitude-pruned to each level (@whittle/prune's masks, as
 * sensitivityAnalysis prunes), scored by top-1 agreement with the dense model's outputs along
 * the last output axis. Large models measure a sample of their largest layers (`maxLayers`).
 * Progress reports points done; the signal is checked between points.
 */
export async function runSensitivity(job: SensitivityJob, signal: AbortSignal, onProgress: (f: number, m: string) => void): Promise<SensitivityReport> {
  const model = withConstantWeights(readModel(job.model));
  const all = findPrunableWeights(model, {});
  const weights = sampleLayers(all, job.maxLayers ?? all.length);
  const runtime = await resolveOrtRuntime(job.ort);
  const opts = { batchSize: job.batchSize, signal, limit: job.samples, ep: runtime.ep };
  const ref = await ortOutputs(job.model, job.data.dataset, { ...opts, cache: true });
  const total = weights.length * job.levels.length;
  let done = 0;
  const layers: SensitivityReport['layers'] = [];
  for (const w of weights) {
    const points: SensitivityReport['layers'][number]['points'] = [];
    for (const s of job.levels) {
      signal.throwIfAborted();
      const masks = await computeMasks(model, [w], { method: 'magnitude', sparsity: s, scope: 'layer' });
      const pruned = writeModel(await applyMasks(model, masks));
      const out = await ortOutputs(pruned, job.data.dataset, opts);
      const f = outputFidelity(ref.values, out.values, ref.lastDim);
      points.push({ sparsity: s, metric: f.top1Agreement ?? 0, relativeError: 10 ** (-f.sqnrDb / 20) });
      onProgress(++done / total, `${w.node} @ ${Math.round(s * 100)} % (${done}/${total})`);
    }
    layers.push({ node: w.node, points });
  }
  return {
    levels: job.levels,
    layers,
    totalLayers: all.length,
    samples: ref.values.length / Math.max(1, ref.classes),
    backend: runtime.ep === 'webgpu' ? { name: 'webgpu', adapter: runtime.label } : { name: 'cpu', note: 'onnxruntime-web wasm' },
    runtime: runtime.label,
  };
}
