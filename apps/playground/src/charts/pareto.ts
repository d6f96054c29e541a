import { paretoFront } from '@whittle/eval';
import { formatBytes } from '../ui/format.js';
import { PALETTE, drawChart } from './chart.js';

/** One variant on the size/quality plane. */
export interface ParetoPointInput {
  name: string;
  size: number;
  /** Accuracy, or top-1 agreement with the original when there are no labels. */
  quality: number;
}

/**
 * Scatter of size against quality, one colour per variant, with the Pareto front (no other
 * variant is both at most as large and at least as good) joined by a line.
 */
export function drawPareto(canvas: HTMLCanvasElement, points: readonly ParetoPointInput[], opts: { sizeLabel: string; qualityLabel: string }): void {
  const front = paretoFront(points.map((p) => ({ size: p.size, accuracy: p.quality }))).map((i) => points[i]!);
  drawChart(canvas, {
    type: 'scatter',
    data: {
      datasets: [
        ...points.map((p, i) => ({ type: 'scatter' as const, label: p.name, data: [{ x: p.size, y: p.quality * 100 }], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 6 })),
        { type: 'line' as const, label: 'Pareto front', data: front.map((p) => ({ x: p.size, y: p.quality * 100 })), borderColor: '#999', borderDash: [4, 4], pointRadius: 0, fill: false },
      ],
    },
    options: {
      scales: {
        x: { type: 'linear', title: { display: true, text: opts.sizeLabel }, ticks: { callback: (v) => formatBytes(Number(v)) } },
        y: { title: { display: true, text: `${opts.qualityLabel} (%)` } },
      },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatBytes(Number(c.parsed.x))}, ${Number(c.parsed.y).toFixed(2)} %` } } },
    },
  });
}
