import type { LayerStat } from '../worker/protocol.js';
import { formatBytes } from '../ui/format.js';
import { drawChart } from './chart.js';

/** Pair the layers of two analyses: by name, else by position when both have as many. */
export function pairLayers(before: readonly LayerStat[], after: readonly LayerStat[]): { name: string; before?: LayerStat; after?: LayerStat }[] {
  const byName = new Map(after.map((l) => [l.name, l]));
  const named = before.every((l) => byName.has(l.name));
  if (!named && before.length === after.length) return before.map((l, i) => ({ name: l.name, before: l, after: after[i]! }));
  const rows: { name: string; before?: LayerStat; after?: LayerStat }[] = before.map((l) => {
    const a = byName.get(l.name);
    return a ? { name: l.name, before: l, after: a } : { name: l.name, before: l };
  });
  for (const a of after) if (!before.some((b) => b.name === a.name)) rows.push({ name: a.name, after: a });
  return rows;
}

/** Layers the chart shows at most (the largest originals; 500 bars are unreadable). */
export const MAX_SIZE_BARS = 30;

/** Grouped bars per layer: stored and gzip bytes of the original and of the selected variant (the largest layers first when there are many). */
export function drawLayerSizes(canvas: HTMLCanvasElement, before: readonly LayerStat[], after: readonly LayerStat[], afterName: string): void {
  const all = pairLayers(before, after);
  const size = (r: (typeof all)[number]): number => Math.max(r.before?.bytes ?? 0, r.after?.bytes ?? 0);
  const rows = all.length > MAX_SIZE_BARS ? [...all].sort((a, b) => size(b) - size(a)).slice(0, MAX_SIZE_BARS) : all;
  const ds = (label: string, color: string, pick: (r: (typeof rows)[number]) => number | undefined) => ({ label, backgroundColor: color, data: rows.map((r) => pick(r) ?? 0) });
  // big models have no per-layer gzip sizes: no empty gzip bars then
  const gzip = (side: 'before' | 'after') => rows.some((r) => r[side]?.gzipBytes !== undefined);
  drawChart(canvas, {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.name),
      datasets: [
        ds('original: stored', '#8c96a8', (r) => r.before?.bytes),
        ...(gzip('before') ? [ds('original: gzip', '#c5cbd6', (r) => r.before?.gzipBytes)] : []),
        ds(`${afterName}: stored`, '#2f6fdf', (r) => r.after?.bytes),
        ...(gzip('after') ? [ds(`${afterName}: gzip`, '#9dbdf3', (r) => r.after?.gzipBytes)] : []),
      ],
    },
    options: {
      plugins: {
        ...(rows.length < all.length ? { title: { display: true, text: `the ${rows.length} largest of ${all.length} layers` } } : {}),
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatBytes(Number(c.parsed.y))}` } },
      },
      scales: { y: { beginAtZero: true, ticks: { callback: (v) => formatBytes(Number(v)) }, title: { display: true, text: 'weight bytes' } } },
    },
  });
}
