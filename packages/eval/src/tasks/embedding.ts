/**
 * Embeddings against the original's: per-sample cosine similarity and retrieval agreement@k (how
 * many of each sample's k nearest neighbours, by cosine, stay the same).
 */
import { ArgumentError } from '@whittle/tensor';

/** What {@link compareEmbeddings} returns. */
export interface EmbeddingResult {
  count: number;
  /** Mean and smallest cosine similarity of a sample's embedding to the original's. */
  meanCosine: number;
  minCosine: number;
  /** Mean over samples of |kNN_ref ∩ kNN_cand| / k, neighbours among the other samples (NaN below 2 samples). */
  retrievalAgreement: number;
  k: number;
}

/**
 * One embedding per sample from an output: [B, D] as is; [B, T, D] mean-pooled over the positions
 * whose mask is 1 (all positions without a mask). Returns row-major [B, D] in float64.
 */
export function poolEmbeddings(data: ArrayLike<number>, dims: readonly number[], mask?: ArrayLike<number | bigint>): { rows: Float64Array; dim: number } {
  if (dims.length === 2) return { rows: Float64Array.from(data), dim: dims[1]! };
  if (dims.length !== 3) throw new ArgumentError(`poolEmbeddings: an embedding output is [batch, dim] or [batch, sequence, dim], got [${dims.join(', ')}]`);
  const [B, T, D] = dims as [number, number, number];
  const mT = mask ? mask.length / B : T;
  const rows = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (mask && Number(mask[b * mT + (mT - T) + t]!) === 0) continue;
      n++;
      for (let d = 0; d < D; d++) rows[b * D + d]! += data[(b * T + t) * D + d]!;
    }
    for (let d = 0; d < D; d++) rows[b * D + d]! /= Math.max(1, n);
  }
  return { rows, dim: D };
}

function unit(rows: ArrayLike<number>, dim: number): Float64Array {
  const out = Float64Array.from(rows);
  for (let s = 0; s < out.length; s += dim) {
    let n = 0;
    for (let d = 0; d < dim; d++) n += out[s + d]! ** 2;
    const r = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < dim; d++) out[s + d]! *= r;
  }
  return out;
}

function knn(u: Float64Array, dim: number, i: number, k: number): Set<number> {
  const n = u.length / dim;
  const sims: [number, number][] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) s += u[i * dim + d]! * u[j * dim + d]!;
    sims.push([s, j]);
  }
  sims.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return new Set(sims.slice(0, k).map((x) => x[1]));
}

/** Compare [N, dim] embeddings of the same samples (row i of both is sample i). */
export function compareEmbeddings(reference: ArrayLike<number>, candidate: ArrayLike<number>, dim: number, k = 5): EmbeddingResult {
  if (reference.length !== candidate.length) throw new ArgumentError(`compareEmbeddings: reference has ${reference.length} values, candidate ${candidate.length}`);
  if (!Number.isInteger(dim) || dim < 1 || reference.length % dim !== 0) throw new ArgumentError(`compareEmbeddings: ${reference.length} values are not rows of ${dim}`);
  const n = reference.length / dim;
  if (n === 0) throw new ArgumentError('compareEmbeddings: no embeddings given');
  const ur = unit(reference, dim);
  const uc = unit(candidate, dim);
  let sum = 0;
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let d = 0; d < dim; d++) c += ur[i * dim + d]! * uc[i * dim + d]!;
    sum += c;
    min = Math.min(min, c);
  }
  const kk = Math.min(k, n - 1);
  let agree = 0;
  if (kk >= 1) {
    for (let i = 0; i < n; i++) {
      const a = knn(ur, dim, i, kk);
      let common = 0;
      for (const j of knn(uc, dim, i, kk)) if (a.has(j)) common++;
      agree += common / kk;
    }
  }
  return { count: n, meanCosine: sum / n, minCosine: min, retrievalAgreement: kk >= 1 ? agree / n : NaN, k: kk };
}
