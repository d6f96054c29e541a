import { ArgumentError } from '@whittle/tensor';
import { type OrtModelSource, createOrtRunner } from './ort_runner.js';
import { type LatencyResult, type LatencyStats, latencyStats } from './latency_stats.js';

/** Options of {@link measureLatencyOrt}. */
export interface MeasureLatencyOptions {
  /** Shape of one sample without the batch dim (float32 input). */
  sampleShape: readonly number[];
  /** Second batch size to time besides 1 (default 64; 0 = only batch 1). */
  batchN?: number;
  /** Timed runs per batch size (default 50) after `warmup` untimed ones (default 5). */
  runs?: number;
  warmup?: number;
  /** onnxruntime intra-op threads (default 1, so results compare across machines' loads). */
  intraOpNumThreads?: number;
  inputName?: string;
}

/**
 * Latency of a model in onnxruntime-node at batch 1 and batch N: p50/p90 (and mean/min/max) of
 * wall times of `session.run` on constant random-free inputs (zeros are fine: timing of dense
 * kernels does not depend on values).
 */
export async function measureLatencyOrt(model: OrtModelSource, opts: MeasureLatencyOptions): Promise<LatencyResult> {
  const runs = opts.runs ?? 50;
  const warmup = opts.warmup ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new ArgumentError(`measureLatencyOrt: runs must be a positive integer, got ${runs}`);
  const threads = opts.intraOpNumThreads ?? 1;
  const runner = await createOrtRunner(model, { intraOpNumThreads: threads });
  try {
    const input = opts.inputName ?? runner.inputNames[0];
    if (!input) throw new ArgumentError('measureLatencyOrt: the model has no input');
    const per = opts.sampleShape.reduce((a, b) => a * b, 1);
    const time = async (batch: number): Promise<LatencyStats> => {
      const feed = { [input]: { data: new Float32Array(batch * per), dims: [batch, ...opts.sampleShape] } };
      for (let i = 0; i < warmup; i++) await runner.run(feed);
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await runner.run(feed);
        samples.push(performance.now() - t0);
      }
      return latencyStats(samples, batch, warmup);
    };
    const result: LatencyResult = { runtime: 'onnxruntime-node (cpu)', intraOpNumThreads: threads, batch1: await time(1) };
    const n = opts.batchN ?? 64;
    if (n > 1) result.batchN = await time(n);
    return result;
  } finally {
    await runner.release();
  }
}
