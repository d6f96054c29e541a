import { type Feeds, type Model, CalibrationDataError, runModel } from '@whittle/graph';
import { type BackendName, type Matrix, ArgumentError, engine, matmulTN64, matrix } from '@whittle/tensor';

/** A layer input to collect statistics for. */
export interface StatRequest {
  /** Value name of the layer input (the activation multiplied by the weight). */
  input: string;
  /** Features per row (K). */
  features: number;
  /** The value is stored transposed (Gemm transA = 1): rows of X are its columns. */
  transposed: boolean;
}

/** Second-moment statistics of one layer input over the calibration data. */
export interface InputStats {
  /** Σ xᵀx over all rows (K×K). */
  gram: Matrix;
  /** mean |x_j| per feature (ASVD scaling). */
  absMean: Float64Array;
  rows: number;
}

/** Options of {@link collectInputStats}. */
export interface CollectOptions {
  backend: BackendName;
  maxBatches: number;
  signal: AbortSignal;
  onBatch?: (batch: number) => void;
}

/**
 * Run the calibration batches through the model (Whittle's interpreter, `fetch`ing the layer
 * inputs) and accumulate, per requested input, XᵀX and mean |x| with X the rows of the input
 * flattened to [rows, K].
 */
export async function collectInputStats(
  model: Model,
  calibration: AsyncIterable<Feeds>,
  requests: readonly StatRequest[],
  opts: CollectOptions,
): Promise<Map<string, InputStats>> {
  const stats = new Map<string, InputStats>();
  for (const r of requests) stats.set(r.input, { gram: matrix(r.features, r.features), absMean: new Float64Array(r.features), rows: 0 });
  const fetch = [...new Set(requests.map((r) => r.input))];
  let batches = 0;
  for await (const feeds of calibration) {
    if (batches >= opts.maxBatches) break;
    if (opts.signal.aborted) throw new ArgumentError('lowrank: aborted while collecting calibration statistics');
    const values = await engine().noGradAsync(() => runModel(model, feeds, { backend: opts.backend, fetch, fetchOnly: true }));
    for (const r of requests) {
      const t = values.get(r.input);
      if (!t) throw new ArgumentError(`lowrank: calibration run did not produce layer input '${r.input}'`);
      const k = r.features;
      const v = await t.toFloat64();
      let x: Matrix;
      if (r.transposed) {
        if (t.rank !== 2 || t.shape[0] !== k) throw new ArgumentError(`lowrank: layer input '${r.input}' has shape [${t.shape.join(',')}], expected [${k}, M] (transA)`);
        const m = t.shape[1]!;
        const d = new Float64Array(m * k);
        for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) d[j * k + i] = v[i * m + j]!;
        x = matrix(m, k, d);
      } else {
        if (t.shape[t.rank - 1] !== k) throw new ArgumentError(`lowrank: layer input '${r.input}' has shape [${t.shape.join(',')}], last dimension should be ${k}`);
        x = matrix(v.length / k, k, v);
      }
      const s = stats.get(r.input)!;
      const g = matmulTN64(x, x);
      for (let i = 0; i < g.data.length; i++) s.gram.data[i] = s.gram.data[i]! + g.data[i]!;
      for (let i = 0; i < x.data.length; i++) s.absMean[i % k] = s.absMean[i % k]! + Math.abs(x.data[i]!);
      s.rows += x.rows;
    }
    const fed = new Set(Object.values(feeds));
    for (const t of values.values()) if (!fed.has(t)) t.dispose();
    batches++;
    opts.onBatch?.(batches);
  }
  if (batches === 0) throw new CalibrationDataError('lowrank', 'lowrank: the calibration data is empty (activation-aware factorization needs batches)');
  for (const s of stats.values()) for (let j = 0; j < s.absMean.length; j++) s.absMean[j] = s.absMean[j]! / Math.max(1, s.rows);
  return stats;
}
