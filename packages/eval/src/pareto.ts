/** The size-vs-accuracy Pareto front. */
import { ArgumentError } from '@whittle/tensor';

/** One candidate: smaller `size` is better, larger `accuracy` is better. */
export interface ParetoPoint {
  size: number;
  /** Missing or NaN: the point cannot be on the front. */
  accuracy?: number | undefined;
}

/**
 * Indices of the points on the size-vs-accuracy Pareto front, by increasing size. A point is on
 * the front when no other point is at most as large and at least as accurate with one of the two
 * strictly better. Identical points are all on the front.
 */
export function paretoFront(points: readonly ParetoPoint[]): number[] {
  points.forEach((p, i) => {
    if (!(p.size >= 0)) throw new ArgumentError(`paretoFront: point ${i} has size ${p.size}; sizes must be numbers >= 0`);
  });
  const ok = points
    .map((p, i) => ({ i, size: p.size, acc: p.accuracy }))
    .filter((p): p is { i: number; size: number; acc: number } => p.acc !== undefined && !Number.isNaN(p.acc));
  // size ascending, then accuracy descending: a point is on the front iff it beats the best
  // accuracy seen among strictly smaller-or-equal points before it (ties kept).
  ok.sort((a, b) => a.size - b.size || b.acc - a.acc || a.i - b.i);
  const front: number[] = [];
  let best = -Infinity;
  let last: { size: number; acc: number } | undefined;
  for (const p of ok) {
    if (p.acc > best) {
      front.push(p.i);
      best = p.acc;
      last = p;
    } else if (last && p.acc === last.acc && p.size === last.size) {
      front.push(p.i); // identical to a front point
    }
  }
  return front;
}
