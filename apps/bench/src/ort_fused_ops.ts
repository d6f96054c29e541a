/**
 * What onnxruntime-node actually runs: the op counts of the graph it optimizes a model into
 * (CPU, extended level, written with optimizedModelFilePath), to show a variant's speed comes
 * from the fused kernels it was meant to reach.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModel } from '@whittle/onnx';

/** `op n, op n` for the ops of `ops` (any domain) in onnxruntime's optimized graph of `bytes`. */
export async function ortFusedOps(bytes: Uint8Array, ops: readonly string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'whittle-bench-opt-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: path, executionProviders: ['cpu'], intraOpNumThreads: 1 });
    await s.release();
    const counts = new Map<string, number>();
    for (const n of (await readModel(new Uint8Array(readFileSync(path)))).graph.nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
    return ops.filter((o) => counts.has(o)).map((o) => `${o} ${counts.get(o)}`).join(', ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
