import type { Plugin, VisualElement } from 'chart.js';
import type { SensitivityReport } from '../worker/protocol.js';
import { drawChart } from './chart.js';

/** Red (0) → yellow → green (1). */
function color(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  return `hsl(${Math.round(t * 120)}, 70%, ${Math.round(62 - 12 * t)}%)`;
}

/** Writes each cell's value (in %) at its centre. */
function cellLabels(values: number[][]): Plugin<'bar'> {
  return {
    id: 'cellLabels',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      ctx.save();
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#111';
      chart.data.datasets.forEach((_, level) => {
        chart.getDatasetMeta(level).data.forEach((el, layer) => {
          const v = values[layer]?.[level];
          const { x, y } = (el as unknown as VisualElement).getCenterPoint();
          if (v !== undefined && x !== null && y !== null) ctx.fillText((v * 100).toFixed(1), x, y);
        });
      });
      ctx.restore();
    },
  };
}

/**
 * Heatmap of per-layer sensitivity — rows: layers, columns: sparsity levels, cell colour and
 * label: top-1 agreement with the dense model (%) — drawn as a stacked horizontal bar chart with
 * one unit-wide segment per level, so the cells tile the plot exactly.
 */
export function drawSensitivity(canvas: HTMLCanvasElement, r: SensitivityReport): void {
  const levels = r.levels.map((l) => `${Math.round(l * 100)} %`);
  const layers = r.layers.map((l) => l.node);
  const values = r.layers.map((l) => l.points.map((p) => p.metric));
  drawChart(canvas, {
    type: 'bar',
    data: {
      labels: layers,
      datasets: levels.map((label, j) => ({
        label,
        data: layers.map(() => 1),
        backgroundColor: values.map((row) => color(row[j] ?? 0)),
        borderColor: '#fff',
        borderWidth: 1,
        barPercentage: 1,
        categoryPercentage: 1,
      })),
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: {
          stacked: true,
          min: 0,
          max: levels.length,
          title: { display: true, text: 'sparsity of the one pruned layer' },
          grid: { display: false },
          // one tick under the middle of each column
          afterBuildTicks: (axis) => {
            axis.ticks = levels.map((_, j) => ({ value: j + 0.5 }));
          },
          ticks: { callback: (v) => levels[Math.floor(Number(v))] ?? '' },
        },
        y: { stacked: true, grid: { display: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${layers[c.dataIndex]} at ${levels[c.datasetIndex]}: ${((values[c.dataIndex]?.[c.datasetIndex] ?? 0) * 100).toFixed(2)} % top-1 agreement` } },
      },
    },
    plugins: [cellLabels(values)],
  });
}
