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
  /** Name of the first model in the result (default 'baseline'). */
  baselineName?: string;
  inputName?: string;
}

/** Slower than the baseline by more than this fraction counts as slower (timing noise below). */
const SLOWER = 0.05;

/**
 * Speed of every model against the first, in onnxruntime-node: the models' runs are interleaved
 * round by round so the machine's load hits all alike; each model's time is the median over
 * rounds of its per-round median. Returns one entry per model (the first compares with itself).
 */
export async function compareLatencyOrt(models: readonly OrtModelSource[], opts: CompareLatencyOptions): Promise<LatencyVsBaseline[]> {
  if (models.length === 0) throw new ArgumentError('compareLatencyOrt: no models; give the baseline first, then the variants');
  const rounds = opts.rounds ?? 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new ArgumentError(`compareLatencyOrt: rounds must be a positive integer, got ${rounds}`);
  const threads = opts.intraOpNumThreads ?? 1;
  const warmup = opts.warmup ?? 3;
  const runners: OrtRunner[] = [];
  try {
    for (const m of models) runners.push(await createOrtRunner(m, { intraOpNumThreads: threads }));
    const per = opts.sampleShape.reduce((a, b) => a * b, 1);
    const series = async (batch: number): Promise<{ ms: number[]; runs: number }> => {
      const feeds = runners.map((r) => {
        const input = opts.inputName ?? r.inputNames[0];
        if (!input) throw new ArgumentError('compareLatencyOrt: a model has no input');
        return { [input]: { data: new Float32Array(batch * per), dims: [batch, ...opts.sampleShape] } };
      });
      let slowest = 0;
      for (const [i, r] of runners.entries()) {
        for (let w = 0; w < warmup; w++) await r.run(feeds[i]!);
        const t0 = performance.now();
        await r.run(feeds[i]!);
        slowest = Math.max(slowest, performance.now() - t0);
      }
      const runs = opts.runsPerRound ?? Math.max(3, Math.min(20, Math.floor(50 / Math.max(slowest, 1e-3))));
      const perRound: number[][] = runners.map(() => []);
      for (let k = 0; k < rounds; k++) {
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
      return { ms: perRound.map(median), runs };
    };
    const b1 = await series(1);
    const n = opts.batchN ?? 0;
    const bn = n > 1 ? await series(n) : undefined;
    return models.map((_, i) => {
      const s1 = b1.ms[0]! / b1.ms[i]!;
      const sn = bn ? bn.ms[0]! / bn.ms[i]! : undefined;
      return {
        baseline: opts.baselineName ?? 'baseline',
        rounds,
        runsPerRound: b1.runs,
        batch1: { medianMs: b1.ms[i]!, baselineMs: b1.ms[0]!, speedup: s1 },
        ...(bn && sn !== undefined ? { batchN: { batchSize: n, medianMs: bn.ms[i]!, baselineMs: bn.ms[0]!, speedup: sn } } : {}),
        slower: s1 < 1 / (1 + SLOWER) || (sn !== undefined && sn < 1 / (1 + SLOWER)),
      };
    });
  } finally {
    for (const r of runners) await r.release();
  }
}
