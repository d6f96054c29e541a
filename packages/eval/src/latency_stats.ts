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

/**
 * Speed of a variant against the baseline, timed in the same run with the runs of all variants
 * interleaved (so machine load hits them alike): medians over `rounds` rounds of the per-round
 * median. `speedup` = baseline time / variant time (above 1: faster than the baseline).
 */
export interface LatencyVsBaseline {
  baseline: string;
  rounds: number;
  runsPerRound: number;
  batch1: { medianMs: number; baselineMs: number; speedup: number };
  batchN?: { batchSize: number; medianMs: number; baselineMs: number; speedup: number };
  /** The variant is more than 5 % slower than the baseline at batch 1 or batch N. */
  slower: boolean;
}

/** Latency at batch 1 and batch N in one runtime setting. */
export interface LatencyResult {
  runtime: string;
  intraOpNumThreads?: number;
  batch1: LatencyStats;
  batchN?: LatencyStats;
  /** Why batch N is smaller than asked or missing: the memory it would have taken. */
  batchNLimit?: string;
  /** Speed against the baseline measured interleaved in one run (set by the comparison). */
  vsBaseline?: LatencyVsBaseline;
}

/** Median of samples (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new ArgumentError('median: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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
