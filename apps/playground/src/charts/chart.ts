/** chart.js, registered once with the parts the playground uses; one chart per canvas. */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartType,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, ScatterController, Title, Tooltip, Legend);
// no animation: charts are final as soon as they are drawn (screenshots, slow machines)
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.size = 11;

const charts = new WeakMap<HTMLCanvasElement, Chart>();

/** Draw `config` on `canvas`, replacing the chart drawn there before. */
export function drawChart<T extends ChartType>(canvas: HTMLCanvasElement, config: ChartConfiguration<T>): Chart<T> {
  charts.get(canvas)?.destroy();
  const c = new Chart(canvas, config);
  charts.set(canvas, c as unknown as Chart);
  return c;
}

/** Remove the chart on `canvas`, if any. */
export function clearChart(canvas: HTMLCanvasElement): void {
  charts.get(canvas)?.destroy();
  charts.delete(canvas);
}

/** Colors of the variants (original first). */
export const PALETTE = ['#5b6576', '#2f6fdf', '#e07b00', '#1e7d32', '#9c27b0', '#b3261e', '#00838f', '#6d4c41'];
