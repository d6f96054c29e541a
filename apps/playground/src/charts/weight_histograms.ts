import type { WeightHistogram } from '../worker/protocol.js';
import { h } from '../ui/dom.js';
import { pct, shape } from '../ui/format.js';
import { drawChart } from './chart.js';

/** One small bar chart per layer: weight value distribution, zeros called out in the title. */
export function drawWeightHistograms(container: HTMLElement, hists: readonly WeightHistogram[]): void {
  container.replaceChildren();
  for (const hist of hists) {
    const canvas = h('canvas');
    const title = `${hist.layer} ${shape(hist.shape)}${hist.note ? ` — ${hist.note}` : ''}`;
    container.append(h('figure', { class: 'chart', 'data-layer': hist.layer, 'data-zeros': hist.zeros, 'data-count': hist.count }, canvas, h('figcaption', {}, `${pct(hist.zeros / Math.max(1, hist.count), 1)} zeros, range [${hist.min.toPrecision(3)}, ${hist.max.toPrecision(3)}]`)));
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
}
