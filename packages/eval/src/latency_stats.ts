/** Latency statistics (pure; the node entry measures with onnxruntime-node). */
import { ArgumentError } from '@whittle/tensor';

/** Summary of one latency measurement series, in milliseconds. */
export interface LatencyStats {
  batchSize: number;
  runs: number;
  warmup: number;
  p50Ms: number;
  p90Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

/** Latency at batch 1 and batch N in one runtime setting. */
export interface LatencyResult {
  runtime: string;
  intraOpNumThreads?: number;
  batch1: LatencyStats;
  batchN?: LatencyStats;
}

/**
 * The q-th percentile (q in [0, 100]) by linear interpolation between closest ranks (NumPy's
 * default): position (n − 1)·q/100 of the sorted samples.
 */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new ArgumentError('percentile: no samples');
  if (!(q >= 0 && q <= 100)) throw new ArgumentError(`percentile: q must be in [0, 100], got ${q}`);
  const s = [...samples].sort((a, b) => a - b);
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** p50/p90/mean/min/max of timing samples (ms). */
export function latencyStats(samples: readonly number[], batchSize: number, warmup = 0): LatencyStats {
  if (samples.length === 0) throw new ArgumentError('latencyStats: no samples');
  return {
    batchSize,
    runs: samples.length,
    warmup,
    p50Ms: percentile(samples, 50),
    p90Ms: percentile(samples, 90),
    meanMs: samples.reduce((a, b) => a + b, 0) / samples.length,
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
  };
}
