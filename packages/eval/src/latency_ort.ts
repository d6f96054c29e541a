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
  /**
   * Time budget per batch size in ms (default 15 s): a model whose run takes seconds (a 1024² segmenter,
   * batch 64 of a CNN) gets fewer runs, at least 5 timed and 1 warm-up, instead of minutes of timing.
   */
  budgetMs?: number;
  /** onnxruntime intra-op threads (default 1, so results compare across machines' loads). */
  intraOpNumThreads?: number;
  inputName?: string;
}

/**
 * Latency of a model in onnxruntime-node at batch 1 and batch N: p50/p90 (and mean/min/max) of
 * wall times of `session.run` on constant random-free inputs (zeros are fine: timing of dense
 * kernels does not depend on values). Runs are cut to fit `budgetMs` per batch size.
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
    const budget = opts.budgetMs ?? 15_000;
    const time = async (batch: number): Promise<LatencyStats> => {
      const feed = { [input]: { data: new Float32Array(batch * per), dims: [batch, ...opts.sampleShape] } };
      // the first run (untimed: it sizes buffers) tells what the budget affords
      const t0 = performance.now();
      await runner.run(feed);
      const first = Math.max(performance.now() - t0, 1e-3);
      const warm = Math.max(1, Math.min(warmup, Math.floor((0.2 * budget) / first)));
      const timed = Math.min(runs, Math.max(5, Math.floor(budget / first)));
      for (let i = 1; i < warm; i++) await runner.run(feed);
      const samples: number[] = [];
      for (let i = 0; i < timed; i++) {
        const t0 = performance.now();
        await runner.run(feed);
        samples.push(performance.now() - t0);
      }
      return latencyStats(samples, batch, warm);
    };
    const result: LatencyResult = { runtime: 'onnxruntime-node (cpu)', intraOpNumThreads: threads, batch1: await time(1) };
    const n = opts.batchN ?? 64;
    if (n > 1) result.batchN = await time(n);
    return result;
  } finally {
    await runner.release();
  }
}
