import { ArgumentError } from '@whittle/tensor';
import { type OrtModelSource, type OrtRunner, createOrtRunner } from './ort_runner.js';
import { type LatencyVsBaseline, median } from './latency_stats.js';

/** Options of {@link compareLatencyOrt}. */
export interface CompareLatencyOptions {
  /** Shape of one sample without the batch dim (float32 input). */
  sampleShape: readonly number[];
  /** Larger batch size timed besides 1 (0: only batch 1, e.g. for a model with a fixed batch). */
  batchN?: number;
  /** Rounds (default 5); in each every model runs `runsPerRound` times in turn. */
  rounds?: number;
  /** Runs per model per round (default: as many as fit ~50 ms of the slowest model, 3 to 20). */
  runsPerRound?: number;
  /** Untimed runs per model and batch size first (default 3). */
  warmup?: number;
  /** onnxruntime intra-op threads (default 1). */
  intraOpNumThreads?: number;
  /**
   * Time budget per variant and batch size in ms (default 20 s): models whose run takes seconds get
   * one run per round and fewer rounds (at least 3) instead of minutes of timing.
   */
  budgetMs?: number;
  /** Name of the first model in the result (default 'baseline'). */
  baselineName?: string;
  inputName?: string;
}

/** Slower than the baseline by more than this fraction counts as slower (timing noise below). */
const SLOWER = 0.05;

/**
 * Speed of every model against the first, in onnxruntime-node: each variant is timed against the
 * baseline in a pair of sessions (two models in memory at a time, however many variants), their
 * runs interleaved round by round so the machine's load hits both alike; each time is the median
 * over rounds of the per-round median. Returns one entry per model (the first compares with itself).
 */
export async function compareLatencyOrt(models: readonly OrtModelSource[], opts: CompareLatencyOptions): Promise<LatencyVsBaseline[]> {
  if (models.length === 0) throw new ArgumentError('compareLatencyOrt: no models; give the baseline first, then the variants');
  const rounds = opts.rounds ?? 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new ArgumentError(`compareLatencyOrt: rounds must be a positive integer, got ${rounds}`);
  const threads = opts.intraOpNumThreads ?? 1;
  const warmup = opts.warmup ?? 3;
  const budget = opts.budgetMs ?? 20_000;
  const per = opts.sampleShape.reduce((a, b) => a * b, 1);
  const n = opts.batchN ?? 0;

  /** Interleaved medians of the runners at one batch size, with the rounds and runs it took. */
  const series = async (runners: readonly OrtRunner[], batch: number): Promise<{ ms: number[]; rounds: number; runs: number }> => {
    const feeds = runners.map((r) => {
      const input = opts.inputName ?? r.inputNames[0];
      if (!input) throw new ArgumentError('compareLatencyOrt: a model has no input');
      return { [input]: { data: new Float32Array(batch * per), dims: [batch, ...opts.sampleShape] } };
    });
    let slowest = 0;
    for (const [i, r] of runners.entries()) {
      const t0 = performance.now();
      await r.run(feeds[i]!);
      const first = Math.max(performance.now() - t0, 1e-3);
      for (let w = 1; w < Math.min(warmup, Math.max(1, Math.floor((0.1 * budget) / first))); w++) await r.run(feeds[i]!);
      const t1 = performance.now();
      await r.run(feeds[i]!);
      slowest = Math.max(slowest, performance.now() - t1);
    }
    let runs = opts.runsPerRound ?? Math.max(3, Math.min(20, Math.floor(50 / Math.max(slowest, 1e-3))));
    let k = rounds;
    if (opts.runsPerRound === undefined && runners.length * rounds * runs * slowest > budget) {
      // seconds per run: one run a round, as many rounds as the budget holds (3 at least)
      runs = 1;
      k = Math.max(Math.min(3, rounds), Math.min(rounds, Math.floor(budget / (runners.length * slowest))));
    }
    const perRound: number[][] = runners.map(() => []);
    for (let round = 0; round < k; round++) {
      for (const [i, r] of runners.entries()) {
        const t: number[] = [];
        for (let j = 0; j < runs; j++) {
          const t0 = performance.now();
          await r.run(feeds[i]!);
          t.push(performance.now() - t0);
        }
        perRound[i]!.push(median(t));
      }
    }
    return { ms: perRound.map(median), rounds: k, runs };
  };

  const entry = (b1: { ms: number[]; rounds: number; runs: number }, bn: { ms: number[] } | undefined, i: number): LatencyVsBaseline => {
    const s1 = b1.ms[0]! / b1.ms[i]!;
    const sn = bn ? bn.ms[0]! / bn.ms[i]! : undefined;
    return {
      baseline: opts.baselineName ?? 'baseline',
      rounds: b1.rounds,
      runsPerRound: b1.runs,
      batch1: { medianMs: b1.ms[i]!, baselineMs: b1.ms[0]!, speedup: s1 },
      ...(bn && sn !== undefined ? { batchN: { batchSize: n, medianMs: bn.ms[i]!, baselineMs: bn.ms[0]!, speedup: sn } } : {}),
      slower: s1 < 1 / (1 + SLOWER) || (sn !== undefined && sn < 1 / (1 + SLOWER)),
    };
  };

  const out: LatencyVsBaseline[] = [];
  const base = await createOrtRunner(models[0]!, { intraOpNumThreads: threads });
  try {
    for (let v = models.length > 1 ? 1 : 0; v < models.length; v++) {
      const other = v === 0 ? undefined : await createOrtRunner(models[v]!, { intraOpNumThreads: threads });
      try {
        const runners = other ? [base, other] : [base];
        const b1 = await series(runners, 1);
        const bn = n > 1 ? await series(runners, n) : undefined;
        // the baseline against itself: its times from the first pair
        if (v <= 1) out.push(entry(b1, bn, 0));
        if (other) out.push(entry(b1, bn, 1));
      } finally {
        await other?.release();
      }
    }
  } finally {
    await base.release();
  }
  return out;
}
