import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import * as ort from 'onnxruntime-node';

/** Op counts (`domain:opType`, default domain as plain `opType`) of the model onnxruntime-node runs after its graph optimizations. */
export async function ortOptimizedOps(model: Model, level: 'basic' | 'extended' | 'all' = 'extended'): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'whittle-ort-opt-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: level, optimizedModelFilePath: path, executionProviders: ['cpu'], intraOpNumThreads: 1 });
    await s.release();
    const opt = await readModel(new Uint8Array(readFileSync(path)));
    const counts: Record<string, number> = {};
    for (const n of opt.graph.nodes) {
      const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : n.opType;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
