/**
 * Interleaved onnxruntime-node timing for models with any inputs (compareLatencyOrt feeds one
 * float32 input; a token model needs int64 ids): every round runs each model in turn, a model's
 * time is the median over rounds of its per-round median, so load on the machine hits all alike.
 */
import * as ort from 'onnxruntime-node';

/** Options of {@link timeInterleaved}. */
export interface InterleavedOptions {
  /** Batch sizes timed, each with its own warm-up. */
  batches: readonly number[];
  rounds: number;
  /** Runs per model per round (default: as many as fit ~300 ms of the slowest model, 3 to 10). */
  runsPerRound?: number;
  /** onnxruntime intra-op threads (0: onnxruntime's default, one per physical core). */
  threads: number;
}

const median = (a: readonly number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median ms of each model (`ms[batchIndex][modelIndex]`) fed `feeds(batch)`. */
export async function timeInterleaved(models: readonly Uint8Array[], feeds: (batch: number) => Record<string, ort.Tensor>, o: InterleavedOptions): Promise<number[][]> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], ...(o.threads > 0 ? { intraOpNumThreads: o.threads } : {}) };
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const m of models) sessions.push(await ort.InferenceSession.create(m, options));
    const out: number[][] = [];
    for (const batch of o.batches) {
      const f = feeds(batch);
      let slowest = 0;
      for (const s of sessions) {
        await s.run(f);
        const t0 = performance.now();
        await s.run(f);
        slowest = Math.max(slowest, performance.now() - t0);
      }
      const runs = o.runsPerRound ?? Math.max(3, Math.min(10, Math.floor(300 / Math.max(slowest, 1e-3))));
      const perRound: number[][] = sessions.map(() => []);
      for (let r = 0; r < o.rounds; r++) {
        for (const [i, s] of sessions.entries()) {
          const t: number[] = [];
          for (let k = 0; k < runs; k++) {
            const t0 = performance.now();
            await s.run(f);
            t.push(performance.now() - t0);
          }
          perRound[i]!.push(median(t));
        }
      }
      out.push(perRound.map(median));
    }
    return out;
  } finally {
    for (const s of sessions) await s.release();
  }
}
