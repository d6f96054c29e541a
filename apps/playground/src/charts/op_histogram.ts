import { drawChart } from './chart.js';

/** Bar chart of node counts per op type, most frequent first. */
export function drawOpHistogram(canvas: HTMLCanvasElement, ops: Record<string, number>): void {
  const entries = Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  drawChart(canvas, {
    type: 'bar',
    data: { labels: entries.map((e) => e[0]), datasets: [{ label: 'nodes', data: entries.map((e) => e[1]), backgroundColor: '#2f6fdf' }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'nodes' } } } },
  });
}
