/** Equal-width histograms of weight values. */

export interface Histogram {
  count: number;
  zeros: number;
  min: number;
  max: number;
  /** bins + 1 edges from min to max. */
  edges: number[];
  counts: number[];
}

/** Histogram over [min, max] with `bins` equal-width bins (the last one closed); NaNs are skipped. */
export function histogram(values: ArrayLike<number>, bins = 41): Histogram {
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    count++;
    if (v === 0) zeros++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (count === 0) return { count, zeros, min: 0, max: 0, edges: [0, 0], counts: [0] };
  const n = min === max ? 1 : bins;
  const width = (max - min) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => (i === n ? max : min + i * width));
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    const b = width === 0 ? 0 : Math.min(n - 1, Math.floor((v - min) / width));
    counts[b]!++;
  }
  return { count, zeros, min, max, edges, counts };
}

/**
 * One histogram summarizing several (e.g. every Conv layer of a model): over the union of their
 * ranges, each source bin's count moved to the bin holding its center (counts, zeros, min and
 * max are exact; the bin placement is approximate within one source bin width).
 */
export function mergeHistograms(hs: readonly Histogram[], bins = 41): Histogram {
  const used = hs.filter((x) => x.count > 0);
  const count = hs.reduce((s, x) => s + x.count, 0);
  const zeros = hs.reduce((s, x) => s + x.zeros, 0);
  if (!used.length) return { count, zeros, min: 0, max: 0, edges: [0, 0], counts: [0] };
  const min = Math.min(...used.map((x) => x.min));
  const max = Math.max(...used.map((x) => x.max));
  const n = min === max ? 1 : bins;
  const width = (max - min) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => (i === n ? max : min + i * width));
  const counts = new Array<number>(n).fill(0);
  for (const x of used) {
    x.counts.forEach((c, i) => {
      const center = (x.edges[i]! + x.edges[i + 1]!) / 2;
      counts[width === 0 ? 0 : Math.min(n - 1, Math.max(0, Math.floor((center - min) / width)))]! += c;
    });
  }
  return { count, zeros, min, max, edges, counts };
}
