import { runModel } from '@whittle/graph';
import { readModel } from '@whittle/onnx';
import { sensitivityAnalysis } from '@whittle/prune';
import { engine } from '@whittle/tensor';
import { describeBackend, selectBackend } from './backend.js';
import { feedBatches } from './pass_data.js';
import type { Job, SensitivityReport } from './protocol.js';

type SensitivityJob = Extract<Job, { kind: 'sensitivity' }>;

/**
 * Per-layer sensitivity on the chosen backend: each prunable layer alone pruned to each level,
 * scored by top-1 agreement with the dense model's outputs (@whittle/prune's
 * sensitivityAnalysis, which runs Whittle's interpreter). A dense forward pass first records
 * which backend the interpreter's outputs actually live on.
 */
export async function runSensitivity(job: SensitivityJob, signal: AbortSignal, onProgress: (f: number, m: string) => void): Promise<SensitivityReport> {
  const chosen = await selectBackend(job.backend);
  const model = readModel(job.model);
  const feeds = feedBatches(job.data.dataset, job.samples);
  const probe = await engine().noGradAsync(() => runModel(model, feeds[0]!, { backend: chosen.name, signal }));
  const ranOn = [...probe.values()][0]!.backend;
  for (const t of probe.values()) t.dispose();
  const r = await sensitivityAnalysis(model, { levels: job.levels, calibration: feeds, backend: chosen.name, signal, onProgress });
  return {
    levels: job.levels,
    layers: r.layers.map((l) => ({ node: l.node, points: l.points.map((p) => ({ sparsity: p.sparsity, metric: p.metric, ...(p.relativeError !== undefined ? { relativeError: p.relativeError } : {}) })) })),
    samples: Math.min(job.samples, feeds.reduce((s, f) => s + (Object.values(f)[0]?.shape[0] ?? 0), 0)),
    backend: describeBackend(ranOn),
  };
}
