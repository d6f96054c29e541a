import type { Chart, Plugin } from 'chart.js';
import type { SensitivityReport } from '../worker/protocol.js';
import { drawChart } from './chart.js';

/** Red (0) → yellow → green (1). */
function color(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  return `hsl(${Math.round(t * 120)}, 70%, ${Math.round(55 - 10 * t)}%)`;
}

/** Cell values written into the cells. */
const cellLabels: Plugin<'scatter'> = {
  id: 'cellLabels',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const meta = chart.getDatasetMeta(0);
    const data = chart.data.datasets[0]?.data as { v: number }[] | undefined;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#111';
    meta.data.forEach((el, i) => {
      const v = data?.[i]?.v;
      if (v !== undefined) ctx.fillText(`${(v * 100).toFixed(1)}`, el.x, el.y);
    });
    ctx.restore();
  },
};

/** Side of a square cell in pixels (chart.js draws 'rect' points with side √2·radius). */
function cellRadius(chart: Chart, nx: number, ny: number): number {
  const a = chart.chartArea;
  if (!a) return 8;
  return (Math.min(a.width / nx, a.height / ny) - 2) / Math.SQRT2;
}

/**
 * Heatmap of per-layer sensitivity (rows: layers, columns: sparsity levels, cell: top-1
 * agreement in %), drawn as a chart.js scatter of square points.
 */
export function drawSensitivity(canvas: HTMLCanvasElement, r: SensitivityReport): void {
  const levels = r.levels.map((l) => `${Math.round(l * 100)} %`);
  const layers = r.layers.map((l) => l.node);
  const cells = r.layers.flatMap((l, y) => l.points.map((p, x) => ({ x, y, v: p.metric })));
  drawChart(canvas, {
    type: 'scatter',
    data: { datasets: [{ label: 'top-1 agreement', data: cells, pointStyle: 'rect', backgroundColor: cells.map((c) => color(c.v)), pointRadius: (c) => cellRadius(c.chart, levels.length, layers.length), pointHoverRadius: (c) => cellRadius(c.chart, levels.length, layers.length) }] },
    options: {
      scales: {
        x: { type: 'linear', min: -0.5, max: levels.length - 0.5, ticks: { stepSize: 1, callback: (v) => levels[Number(v)] ?? '' }, title: { display: true, text: 'sparsity of the one pruned layer' }, grid: { display: false } },
        y: { type: 'linear', min: -0.5, max: layers.length - 0.5, reverse: true, ticks: { stepSize: 1, callback: (v) => layers[Number(v)] ?? '' }, grid: { display: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => { const d = c.raw as { x: number; y: number; v: number }; return `${layers[d.y]} at ${levels[d.x]}: ${(d.v * 100).toFixed(2)} % agreement`; } } },
      },
    },
    plugins: [cellLabels],
  });
}
