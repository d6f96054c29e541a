/**
 * Fidelity of a compressed model's outputs against the original's on the same inputs. All sums
 * are accumulated in float64, so the figures do not depend on how the outputs were batched.
 */
import { ArgumentError } from '@whittle/tensor';
import { argmax } from './metrics.js';

/** What {@link compareOutputs} and {@link FidelityAccumulator.result} return. */
export interface FidelityMetrics {
  /** Number of output values compared. */
  count: number;
  /** Cosine similarity of the flattened outputs (1 when both are all zeros, 0 when only one is). */
  cosine: number;
  /**
   * Signal-to-quantization-noise ratio in dB: 10·log10(Σ ref² / Σ (ref − cand)²). `Infinity` when
   * the outputs are identical, `-Infinity` when the reference is all zeros and the candidate is not.
   */
  sqnrDb: number;
  /** max |ref − cand|. */
  maxAbsError: number;
  /** mean |ref − cand|. */
  meanAbsError: number;
  /** sqrt(mean (ref − cand)²). */
  rmse: number;
  /** Rows compared for top-1 agreement (only when `numClasses` was given). */
  rows?: number;
  /** Fraction of rows whose argmax agrees (only when `numClasses` was given). */
  top1Agreement?: number;
}

/** Options of {@link compareOutputs} / {@link FidelityAccumulator}. */
export interface FidelityOptions {
  /** Row length of the [rows, numClasses] outputs; enables `top1Agreement`. */
  numClasses?: number;
}

function checkPair(reference: ArrayLike<number>, candidate: ArrayLike<number>, what: string): void {
  if (reference.length !== candidate.length) {
    throw new ArgumentError(`${what}: reference has ${reference.length} values, candidate ${candidate.length}; compare outputs of the same inputs`);
  }
}

/**
 * Accumulates fidelity statistics over batches (`add` per batch, then `result`). Batches must be
 * whole rows when `numClasses` is set.
 */
export class FidelityAccumulator {
  private dot = 0;
  private refSq = 0;
  private candSq = 0;
  private errSq = 0;
  private errAbs = 0;
  private maxErr = 0;
  private n = 0;
  private rowCount = 0;
  private agree = 0;
  private readonly numClasses: number | undefined;

  constructor(opts: FidelityOptions = {}) {
    const k = opts.numClasses;
    if (k !== undefined && (!Number.isInteger(k) || k <= 0)) throw new ArgumentError(`FidelityAccumulator: numClasses must be a positive integer, got ${k}`);
    this.numClasses = k;
  }

  /** Add one batch of reference and candidate outputs (same length, same order). */
  add(reference: ArrayLike<number>, candidate: ArrayLike<number>): this {
    checkPair(reference, candidate, 'FidelityAccumulator.add');
    const k = this.numClasses;
    if (k !== undefined && reference.length % k !== 0) {
      throw new ArgumentError(`FidelityAccumulator.add: ${reference.length} values are not whole rows of ${k} classes`);
    }
    for (let i = 0; i < reference.length; i++) {
      const r = reference[i]!;
      const c = candidate[i]!;
      const e = r - c;
      const a = Math.abs(e);
      this.dot += r * c;
      this.refSq += r * r;
      this.candSq += c * c;
      this.errSq += e * e;
      this.errAbs += a;
      // NaN must propagate into the max (a NaN output is the worst possible error)
      if (a > this.maxErr || Number.isNaN(a)) this.maxErr = a;
    }
    this.n += reference.length;
    if (k !== undefined) {
      for (let s = 0; s < reference.length; s += k) {
        if (argmax(reference, s, k) === argmax(candidate, s, k)) this.agree++;
        this.rowCount++;
      }
    }
    return this;
  }

  /** The metrics over everything added so far. */
  result(): FidelityMetrics {
    if (this.n === 0) throw new ArgumentError('FidelityAccumulator: no values were added');
    const norms = Math.sqrt(this.refSq) * Math.sqrt(this.candSq);
    const cosine = this.refSq === 0 && this.candSq === 0 ? 1 : norms === 0 ? 0 : Math.max(-1, Math.min(1, this.dot / norms));
    const sqnrDb = this.errSq === 0 ? Infinity : this.refSq === 0 ? -Infinity : 10 * Math.log10(this.refSq / this.errSq);
    const out: FidelityMetrics = {
      count: this.n,
      cosine,
      sqnrDb,
      maxAbsError: this.maxErr,
      meanAbsError: this.errAbs / this.n,
      rmse: Math.sqrt(this.errSq / this.n),
    };
    if (this.numClasses !== undefined) {
      out.rows = this.rowCount;
      out.top1Agreement = this.agree / this.rowCount;
    }
    return out;
  }
}

/** All fidelity metrics of `candidate` against `reference` (flattened, same order). */
export function compareOutputs(reference: ArrayLike<number>, candidate: ArrayLike<number>, opts: FidelityOptions = {}): FidelityMetrics {
  return new FidelityAccumulator(opts).add(reference, candidate).result();
}

/** Cosine similarity of two equally long vectors (float64 sums; 1 for two zero vectors). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return compareOutputs(a, b).cosine;
}

/** SQNR in dB of `candidate` against `reference`: 10·log10(Σ ref² / Σ (ref − cand)²). */
export function sqnrDb(reference: ArrayLike<number>, candidate: ArrayLike<number>): number {
  return compareOutputs(reference, candidate).sqnrDb;
}

/** max |a − b| (NaN if either holds a NaN). */
export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return compareOutputs(a, b).maxAbsError;
}

/** Fraction of [rows, numClasses] rows whose argmax is the same in both. */
export function top1Agreement(reference: ArrayLike<number>, candidate: ArrayLike<number>, numClasses: number): number {
  return compareOutputs(reference, candidate, { numClasses }).top1Agreement!;
}

// classColumns (which outputs hold classes) lives in @whittle/graph beside outputClassColumns;
// re-exported here, where metrics users look for it
export { classColumns } from '@whittle/graph';
