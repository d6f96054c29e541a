/**
 * Counting what a pass left alone and why, so that a run that quantizes little or nothing says
 * so in its report (warnings, details, summary) instead of silently.
 */

/** One skipped weight (or node). */
export interface Skip {
  /** Op type of the consumer. */
  op: string;
  /** The weight or node name, `path: name` inside a subgraph. */
  name: string;
  reason: string;
}

/** Collects skips and summarizes them by reason. */
export class SkipLog {
  readonly items: Skip[] = [];

  add(op: string, name: string, reason: string): void {
    this.items.push({ op, name, reason });
  }

  get size(): number {
    return this.items.length;
  }

  /** Count per reason, most frequent first. */
  byReason(): [string, number][] {
    const m = new Map<string, number>();
    for (const s of this.items) m.set(s.reason, (m.get(s.reason) ?? 0) + 1);
    return [...m].sort((a, b) => b[1] - a[1]);
  }

  /** Count per op type and reason: `{ Conv: { 'below 64 elements': 3 } }`. */
  byOp(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const s of this.items) {
      const o = (out[s.op] ??= {});
      o[s.reason] = (o[s.reason] ?? 0) + 1;
    }
    return out;
  }

  /** One line: `3 weights skipped: 2 below 64 elements; 1 shared with a non-MatMul consumer`. */
  summary(what = 'weights'): string {
    if (!this.items.length) return '';
    return `${this.items.length} ${what} skipped: ${this.byReason().map(([r, n]) => `${n} ${r}`).join('; ')}`;
  }

  /** One warning per reason with up to three example names. */
  warnings(): string[] {
    return this.byReason().map(([r, n]) => {
      const names = this.items.filter((s) => s.reason === r).map((s) => s.name);
      const shown = names.slice(0, 3).join(', ');
      return `${n} skipped (${r}): ${shown}${names.length > 3 ? `, ... (${names.length - 3} more)` : ''}`;
    });
  }
}

/**
 * The reason of a pass that found nothing to do: what the model holds instead (weights in
 * Constant nodes, weights of other dtypes, skipped weights).
 */
export function nothingReason(found: string, skips: SkipLog, constantWeights: number): string {
  const parts = [found];
  if (constantWeights > 0) parts.push(`${constantWeights} Constant nodes hold weights; run normalize first`);
  const s = skips.summary();
  if (s) parts.push(s);
  return parts.join(': ');
}
