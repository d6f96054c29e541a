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
  /**
   * Memory the batch-N run may take (default: a quarter of the memory available to the process,
   * at most 4 GiB). Batch N is halved until N times what one sample took at batch 1 (memory onnxruntime
   * grew by on the first run, or the outputs' bytes if more) fits: a speech encoder returning
   * 1500×1500 attention maps needs ~0.4 GB a sample, 27 GB at batch 64.
   */
  memoryBudgetBytes?: number;
}

/** What one sample costs in memory: the growth of the first run at batch 1, at least its outputs. */
function sampleBytes(rssGrowth: number, outputs: Record<string, { data: { byteLength?: number } | unknown[] }>): number {
  let out = 0;
  for (const o of Object.values(outputs)) out += (o.data as { byteLength?: number }).byteLength ?? 8 * (o.data as unknown[]).length;
  return Math.max(rssGrowth, out);
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
    let perSample = 0;
    const time = async (batch: number): Promise<LatencyStats> => {
      const feed = { [input]: { data: new Float32Array(batch * per), dims: [batch, ...opts.sampleShape] } };
      // the first run (untimed: it sizes buffers) tells what the budget affords, and at batch 1
      // what a sample costs in memory
      const rss0 = process.memoryUsage.rss();
      const t0 = performance.now();
      const out = await runner.run(feed);
      const first = Math.max(performance.now() - t0, 1e-3);
      if (batch === 1) perSample = sampleBytes(process.memoryUsage.rss() - rss0, out);
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
    const asked = opts.batchN ?? 64;
    // process.availableMemory (Node ≥ 20.13) counts cgroup limits; unknown: assume 8 GB free
    const free = (process as { availableMemory?: () => number }).availableMemory?.() ?? 8 * 2 ** 30;
    const memory = opts.memoryBudgetBytes ?? Math.min(4 * 2 ** 30, free / 4);
    let n = asked;
    while (n > 1 && n * perSample > memory) n = Math.floor(n / 2);
    if (n < asked && asked > 1) {
      const gb = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GB`;
      result.batchNLimit = `batch ${asked} would take ~${gb(asked * perSample)} (${(perSample / 2 ** 20).toFixed(0)} MB a sample at batch 1) of a ${gb(memory)} budget: ${n > 1 ? `timed at batch ${n}` : 'batch N not timed'}`;
    }
    if (n > 1) result.batchN = await time(n);
    return result;
  } finally {
    await runner.release();
  }
}
