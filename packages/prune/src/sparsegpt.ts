/**
 * SparseGPT (Frantar & Alistarh, 2023): one-shot pruning of a linear layer with the OBS weight
 * update. Columns are processed left to right in blocks; within a block the pruning mask is chosen
 * by the OBS saliency w² / [H⁻¹]²_cc (over the whole block for unstructured sparsity, per group of
 * m columns for n:m), and the error of each pruned column is spread onto the columns to its right
 * through the upper Cholesky factor of H⁻¹, H = 2·XᵀX + damping.
 */
import { ArgumentError, inverseUpperCholesky } from '@whittle/tensor';

/** Options of {@link sparseGptPrune}. */
export interface SparseGptSpec {
  /** Fraction of weights zeroed (unstructured; ignored when `n`/`m` are set). */
  sparsity: number;
  /** Keep `n` of every `m` consecutive inputs (n:m sparsity; 0 = unstructured). */
  n: number;
  m: number;
  /** Columns per mask block / lazy update. */
  blockSize: number;
  /** Relative dampening of diag(H) (fraction of its mean). */
  damping: number;
}

/** Result of {@link sparseGptPrune}: the updated weights (zeros where pruned) and the keep-mask. */
export interface SparseGptResult {
  w: Float64Array;
  mask: Uint8Array;
  /** Σ over pruned/updated weights of the OBS loss (w - q)² / [H⁻¹]_cc / 2, summed over rows. */
  loss: number;
}

/**
 * Prune a canonical row-major weight [rows, cols] (rows = outputs, cols = inputs) given the Gram
 * matrix XᵀX of its inputs (cols x cols, symmetric). Returns a new weight; `w0` is not modified.
 */
export function sparseGptPrune(w0: Float64Array, rows: number, cols: number, xtx: Float64Array, spec: SparseGptSpec): SparseGptResult {
  const K = cols;
  if (w0.length !== rows * cols || xtx.length !== K * K) throw new ArgumentError(`sparseGptPrune: weight of ${w0.length} values / Gram of ${xtx.length} do not fit [${rows}, ${cols}]`);
  const nm = spec.n > 0 && spec.m > 0;
  if (nm && (spec.n > spec.m || K % spec.m !== 0)) throw new ArgumentError(`sparseGptPrune: ${spec.n}:${spec.m} needs n <= m and cols (${K}) a multiple of m`);
  const H = new Float64Array(K * K);
  for (let i = 0; i < H.length; i++) H[i] = 2 * xtx[i]!;
  const W = Float64Array.from(w0);
  // inputs that were always zero carry no information: their weights are free to go
  for (let i = 0; i < K; i++) {
    if (H[i * K + i] === 0) {
      H[i * K + i] = 1;
      for (let r = 0; r < rows; r++) W[r * K + i] = 0;
    }
  }
  const U = inverseUpperCholesky(H, K, spec.damping, 'sparseGptPrune');
  const mask = new Uint8Array(rows * K).fill(1);
  const bs = nm ? Math.max(spec.m, Math.floor(spec.blockSize / spec.m) * spec.m) : spec.blockSize;
  const Err = new Float64Array(rows * bs);
  let loss = 0;
  for (let i1 = 0; i1 < K; i1 += bs) {
    const i2 = Math.min(K, i1 + bs);
    const count = i2 - i1;
    if (!nm) {
      // adaptive mask selection: the block's `sparsity` fraction of lowest w² / d² over all rows
      const tmp = new Float64Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < count; i++) {
          const d = U[(i1 + i) * K + i1 + i]!;
          const w = W[r * K + i1 + i]!;
          tmp[r * count + i] = (w * w) / (d * d);
        }
      }
      const k = Math.floor(tmp.length * spec.sparsity);
      if (k > 0) {
        const order = Array.from({ length: tmp.length }, (_, i) => i).sort((a, b) => tmp[a]! - tmp[b]!);
        for (let j = 0; j < k; j++) {
          const at = order[j]!;
          mask[Math.floor(at / count) * K + i1 + (at % count)] = 0;
        }
      }
    }
    for (let i = 0; i < count; i++) {
      const c = i1 + i;
      const d = U[c * K + c]!;
      if (nm && i % spec.m === 0) {
        // in each row, prune the m - n inputs of this group with the lowest OBS saliency
        const sal = new Float64Array(spec.m);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < spec.m; j++) {
            const dj = U[(c + j) * K + c + j]!;
            const w = W[r * K + c + j]!;
            sal[j] = (w * w) / (dj * dj);
          }
          const idx = Array.from({ length: spec.m }, (_, j) => j);
          idx.sort((a, b) => sal[a]! - sal[b]!);
          for (let j = 0; j < spec.m - spec.n; j++) mask[r * K + c + idx[j]!] = 0;
        }
      }
      const urow = c * K;
      for (let r = 0; r < rows; r++) {
        const w = W[r * K + c]!;
        const q = mask[r * K + c] ? w : 0;
        W[r * K + c] = q;
        const err = (w - q) / d;
        loss += (err * err) / 2;
        Err[r * bs + i] = err;
        if (err === 0) continue;
        // update the rest of this block at once
        for (let j = c + 1; j < i2; j++) W[r * K + j] = W[r * K + j]! - err * U[urow + j]!;
      }
    }
    // lazy update of the columns right of the block
    for (let r = 0; r < rows; r++) {
      const wr = r * K;
      for (let i = 0; i < count; i++) {
        const err = Err[r * bs + i]!;
        if (err === 0) continue;
        const urow = (i1 + i) * K;
        for (let j = i2; j < K; j++) W[wr + j] = W[wr + j]! - err * U[urow + j]!;
      }
    }
  }
  // pruned weights are exactly zero (the updates above never touch already-processed columns)
  for (let i = 0; i < W.length; i++) if (!mask[i]) W[i] = 0;
  return { w: W, mask, loss };
}
