/**
 * Rank selection. A layer is described by one or two "rank dimensions" (one for an SVD, two for
 * Tucker-2: input and output channels), each with its relative spectrum (squared singular
 * values divided by the total energy, descending), and a parameter cost as a function of the
 * ranks. The relative squared error of a choice is the discarded energy summed over dimensions
 * (exact for an SVD, the HOSVD upper bound for Tucker-2).
 */

/** What rank selection needs to know about one layer. */
export interface RankProblem {
  /** Relative squared singular values per rank dimension (descending; may be truncated). */
  spectra: Float64Array[];
  /** Largest rank per dimension (the full rank). */
  maxRanks: number[];
  /** Parameters of the factorized layer at these ranks. */
  cost(ranks: readonly number[]): number;
  /** Parameters of the layer left dense. */
  dense: number;
}

/** How ranks are chosen. */
export type RankSelection =
  | { mode: 'fixed'; rank: number }
  | { mode: 'energy'; energy: number }
  | { mode: 'error'; maxError: number }
  | { mode: 'budget'; budget: number };

/** Relative squared error of `ranks` (sum of discarded relative energies). */
export function relativeError2(p: RankProblem, ranks: readonly number[]): number {
  let e = 0;
  p.spectra.forEach((s, d) => {
    let kept = 0;
    for (let i = 0; i < Math.min(ranks[d]!, s.length); i++) kept += s[i]!;
    e += Math.max(0, 1 - kept);
  });
  return e;
}

/** Smallest rank r (≥ 1) whose cumulative relative energy reaches `target`. */
function rankForEnergy(s: Float64Array, max: number, target: number): number {
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc += s[i]!;
    if (acc >= target - 1e-12) return Math.min(max, i + 1);
  }
  return max;
}

/** Ranks for the per-layer modes (fixed, energy, error). */
export function selectLocal(p: RankProblem, sel: Exclude<RankSelection, { mode: 'budget' }>): number[] {
  const dims = p.spectra.length;
  return p.spectra.map((s, d) => {
    const max = p.maxRanks[d]!;
    if (sel.mode === 'fixed') return Math.max(1, Math.min(max, sel.rank));
    // error mode: each dimension may discard ε²/dims of the energy (total ≤ ε²)
    const target = sel.mode === 'energy' ? sel.energy : 1 - (sel.maxError * sel.maxError) / dims;
    return rankForEnergy(s, max, target);
  });
}

/** Result of {@link allocateBudget}: ranks per layer, or null when the layer stays dense. */
export interface Allocation {
  ranks: (number[] | null)[];
  /** Parameters of the chosen configuration (factorized layers + dense ones). */
  cost: number;
  /** Whether the minimum configuration already exceeded the budget. */
  overBudget: boolean;
}

/**
 * Allocate ranks across layers under a global parameter budget (for these layers only): start
 * every layer at rank 1, then repeatedly take the move with the largest reduction of relative
 * squared error per added parameter (raise one rank dimension by one, or keep the layer dense)
 * while the total stays within `budget`. A layer whose factorization would cost as much as the
 * dense layer is kept dense.
 */
export function allocateBudget(problems: readonly RankProblem[], budget: number): Allocation {
  const ranks: (number[] | null)[] = problems.map((p) => p.spectra.map(() => 1));
  const costOf = (i: number): number => {
    const r = ranks[i];
    return r ? problems[i]!.cost(r) : problems[i]!.dense;
  };
  let cost = problems.reduce((s, _, i) => s + Math.min(costOf(i), problems[i]!.dense), 0);
  problems.forEach((p, i) => {
    if (p.cost(ranks[i]!) >= p.dense) ranks[i] = null;
  });
  const overBudget = cost > budget;
  for (;;) {
    let best: { i: number; next: number[] | null; gain: number; inc: number } | undefined;
    problems.forEach((p, i) => {
      const r = ranks[i];
      if (!r) return;
      const cur = p.cost(r);
      const err = relativeError2(p, r);
      const consider = (next: number[] | null): void => {
        const nc = next ? p.cost(next) : p.dense;
        const inc = Math.max(nc - cur, 1e-9);
        if (cost + nc - cur > budget) return;
        const gain = err - (next ? relativeError2(p, next) : 0);
        if (gain <= 0 && next) return;
        if (!best || gain / inc > best.gain / best.inc) best = { i, next, gain, inc };
      };
      r.forEach((_, d) => {
        if (r[d]! >= p.maxRanks[d]! || r[d]! >= p.spectra[d]!.length) return;
        const next = [...r];
        next[d] = r[d]! + 1;
        if (p.cost(next) >= p.dense) return; // that step is the "keep dense" move below
        consider(next);
      });
      if (err > 0) consider(null);
    });
    if (!best) break;
    const b: { i: number; next: number[] | null } = best;
    const old = costOf(b.i);
    ranks[b.i] = b.next;
    cost += costOf(b.i) - old;
  }
  return { ranks, cost, overBudget };
}
