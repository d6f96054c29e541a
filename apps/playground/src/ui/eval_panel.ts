import type { AppContext } from '../app/context.js';
import { evaluateWithStatus } from '../app/open_model.js';
import { currentReport } from '../app/report.js';
import { clearChart } from '../charts/chart.js';
import { drawSensitivity } from '../charts/heatmap.js';
import { drawLayerSizes } from '../charts/layer_sizes.js';
import { drawPareto } from '../charts/pareto.js';
import type { SensitivityReport } from '../worker/protocol.js';
import { byId, h } from './dom.js';
import { pct } from './format.js';
import { resultsTable } from './results_table.js';

function renderResults(ctx: AppContext): void {
  const { store } = ctx;
  const s = store.state;
  const report = currentReport(s, s.runtime);
  byId('results').replaceChildren(
    ...resultsTable(s.variants, report, s.selected, (i) => {
      s.selected = i;
      store.emit('evaluation');
    }),
  );
  const pareto = byId<HTMLCanvasElement>('pareto-chart');
  const labeled = !!s.evalData?.dataset.labels;
  const points = (report?.rows ?? []).flatMap((r) => {
    const q = labeled ? r.accuracy : r.name === report?.baseline ? 1 : r.fidelity?.top1Agreement;
    return q === undefined ? [] : [{ name: r.name, size: r.size[s.sizeBasis], quality: q }];
  });
  if (points.length) drawPareto(pareto, points, { sizeLabel: s.sizeBasis === 'fileBytes' ? 'file size' : 'gzip size', qualityLabel: labeled ? 'accuracy' : 'top-1 agreement with the original' });
  else clearChart(pareto);
  const orig = s.variants[0];
  const sel = s.variants[s.selected];
  const sizes = byId<HTMLCanvasElement>('sizes-chart');
  if (orig && sel && sel !== orig) drawLayerSizes(sizes, orig.analysis.layers, sel.analysis.layers, sel.name);
  else clearChart(sizes);
}

/** The heatmap's numbers as a table (exact values in `data-value`). */
function sensitivityTable(r: SensitivityReport): HTMLElement[] {
  const head = h('tr', {}, h('th', {}, 'Layer'), ...r.levels.map((l) => h('th', {}, `${Math.round(l * 100)} %`)));
  const rows = r.layers.map((l) => h('tr', { 'data-layer': l.node }, h('td', {}, l.node), ...l.points.map((p) => h('td', { 'data-sparsity': p.sparsity, 'data-value': p.metric }, pct(p.metric)))));
  return [h('thead', {}, head), h('tbody', {}, ...rows)];
}

/** The evaluate section: data source, size axis, results table, Pareto, per-layer sizes, sensitivity heatmap. */
export function mountEvalPanel(ctx: AppContext): void {
  const { store } = ctx;
  const basis = byId<HTMLSelectElement>('size-basis');
  basis.addEventListener('change', () => {
    store.state.sizeBasis = basis.value === 'gzipBytes' ? 'gzipBytes' : 'fileBytes';
    store.emit('evaluation');
  });
  byId('evaluate').addEventListener('click', () => void evaluateWithStatus(ctx, true));
  store.on('evaluation', () => renderResults(ctx));
  store.on('variants', () => renderResults(ctx));
  store.on('sensitivity', () => {
    const canvas = byId<HTMLCanvasElement>('sensitivity-chart');
    const r = store.state.sensitivity;
    const caption = byId('sensitivity-caption');
    byId('sensitivity-details').hidden = !r;
    byId('sensitivity-figure').hidden = !r;
    if (!r) {
      clearChart(canvas);
      caption.removeAttribute('data-backend');
      return;
    }
    drawSensitivity(canvas, r);
    byId('sensitivity-table').replaceChildren(...sensitivityTable(r));
    caption.dataset['backend'] = r.backend.name;
    const sampled = r.layers.length < r.totalLayers ? `the ${r.layers.length} largest of ${r.totalLayers} layers, ` : '';
    caption.textContent = `Per-layer sensitivity: top-1 agreement (%) with the dense model when only that layer is pruned (${sampled}${r.samples} samples), measured in ${r.runtime}`;
  });
}
