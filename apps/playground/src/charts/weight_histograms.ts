import type { Histogram } from '../analysis/histogram.js';
import type { OpHistogram, WeightHistogram } from '../worker/protocol.js';
import { h } from '../ui/dom.js';
import { pct, shape } from '../ui/format.js';
import { clearChart, drawChart } from './chart.js';

function drawHistogram(canvas: HTMLCanvasElement, hist: Histogram, title: string): void {
  const centers = hist.counts.map((_, i) => ((hist.edges[i]! + hist.edges[i + 1]!) / 2).toPrecision(3));
  drawChart(canvas, {
    type: 'bar',
    data: { labels: centers, datasets: [{ label: 'weights', data: hist.counts, backgroundColor: '#2f6fdf', barPercentage: 1, categoryPercentage: 1 }] },
    options: {
      plugins: { legend: { display: false }, title: { display: true, text: title } },
      scales: { x: { ticks: { maxTicksLimit: 5 } }, y: { type: 'logarithmic', title: { display: true, text: 'count (log)' } } },
    },
  });
}

const caption = (hist: Histogram): string => `${pct(hist.zeros / Math.max(1, hist.count), 1)} zeros, range [${hist.min.toPrecision(3)}, ${hist.max.toPrecision(3)}]`;

/** One summary chart per op type (always drawn: a handful, whatever the number of layers). */
export function drawOpHistograms(container: HTMLElement, hists: readonly OpHistogram[]): void {
  for (const c of container.querySelectorAll('canvas')) clearChart(c);
  container.replaceChildren();
  for (const hist of [...hists].sort((a, b) => b.count - a.count)) {
    const canvas = h('canvas');
    container.append(h('figure', { class: 'chart', 'data-op': hist.opType, 'data-layers': hist.layers, 'data-zeros': hist.zeros, 'data-count': hist.count }, canvas, h('figcaption', {}, caption(hist))));
    drawHistogram(canvas, hist, `all ${hist.opType} (${hist.layers} layer${hist.layers === 1 ? '' : 's'})`);
  }
}

let observer: IntersectionObserver | undefined;

/**
 * One figure per layer, its chart drawn only when the figure scrolls into view (the list sits in
 * a collapsed <details>: 500 layers cost 500 empty figures, not 500 charts).
 */
export function drawWeightHistograms(container: HTMLElement, hists: readonly WeightHistogram[]): void {
  observer?.disconnect();
  for (const c of container.querySelectorAll('canvas')) clearChart(c);
  container.replaceChildren();
  const pending = new Map<Element, () => void>();
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      pending.get(e.target)?.();
      pending.delete(e.target);
      observer?.unobserve(e.target);
    }
  });
  for (const hist of hists) {
    const canvas = h('canvas');
    const fig = h('figure', { class: 'chart', 'data-layer': hist.layer, 'data-zeros': hist.zeros, 'data-count': hist.count }, canvas, h('figcaption', {}, caption(hist)));
    container.append(fig);
    pending.set(fig, () => {
      drawHistogram(canvas, hist, `${hist.layer} ${shape(hist.shape)}${hist.note ? ` — ${hist.note}` : ''}`);
      fig.dataset['drawn'] = 'true';
    });
    observer.observe(fig);
  }
}
