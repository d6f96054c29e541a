import type { Store } from '../app/state.js';
import { drawChart } from '../charts/chart.js';
import { drawOpHistogram } from '../charts/op_histogram.js';
import { drawOpHistograms, drawWeightHistograms } from '../charts/weight_histograms.js';
import { KIND_LABEL, modelKind } from '../recipes/model_kind.js';
import type { ModelAnalysis } from '../worker/protocol.js';
import { byId, h } from './dom.js';
import { count, formatBytes, shape } from './format.js';
import { LayerTable, matchesFilter } from './layer_table.js';
import { LAYER_GZIP_LIMIT } from '../analysis/gzip.js';

function facts(name: string, a: ModelAnalysis): HTMLElement[] {
  const row = (k: string, v: string, key: string, value: number | string = v): HTMLElement[] => [h('dt', {}, k), h('dd', { 'data-fact': key, 'data-value': value }, v)];
  const kind = modelKind(a);
  return [
    ...row('Model', name, 'name'),
    ...row('Kind', `${KIND_LABEL[kind.kind]} (${kind.why})`, 'kind', kind.kind),
    ...row('File', `${formatBytes(a.fileBytes)} (${a.fileBytes} bytes)`, 'fileBytes', a.fileBytes),
    ...row('Nodes', String(a.nodes), 'nodes', a.nodes),
    ...row('Parameters', `${count(a.parameters)} (${a.parameters})`, 'parameters', a.parameters),
    ...row('Weights', `${formatBytes(a.bytes)}: ${Object.entries(a.byDtype).map(([k, v]) => `${k} ${count(v.parameters)}`).join(', ')}`, 'weightBytes', a.bytes),
    ...row('FLOPs / sample', `~${count(a.flops)}`, 'flops', a.flops),
    ...row('Opsets', a.opsets.join(', '), 'opsets'),
    ...row('Inputs', a.inputs.map((i) => `${i.name} ${i.elemType} ${shape(i.shape)}`).join('; '), 'inputs'),
    ...row('Outputs', a.outputs.map((i) => `${i.name} ${i.elemType} ${shape(i.shape)}`).join('; '), 'outputs'),
  ];
}

function drawOpBytes(canvas: HTMLCanvasElement, a: ModelAnalysis): void {
  const by = new Map<string, number>();
  for (const l of a.layers) by.set(l.opType, (by.get(l.opType) ?? 0) + l.bytes);
  const entries = [...by].sort((x, y) => y[1] - x[1]);
  drawChart(canvas, {
    type: 'bar',
    data: { labels: entries.map((e) => e[0]), datasets: [{ label: 'MB', data: entries.map((e) => e[1] / 2 ** 20), backgroundColor: '#e07b00' }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'weight MB' } } } },
  });
}

/** Apply the filter box to the table rows and histogram figures; show how many layers match. */
function applyFilter(): void {
  const text = byId<HTMLInputElement>('layer-filter').value;
  let shown = 0;
  const rows = [...document.querySelectorAll<HTMLElement>('#layer-table tbody tr')];
  for (const r of rows) {
    r.hidden = !matchesFilter(r.dataset['layer'] ?? '', r.dataset['op'] ?? '', text);
    if (!r.hidden) shown++;
  }
  const ops = new Map(rows.map((r) => [r.dataset['layer'] ?? '', r.dataset['op'] ?? '']));
  for (const f of document.querySelectorAll<HTMLElement>('#weight-hists figure')) f.hidden = !matchesFilter(f.dataset['layer'] ?? '', ops.get(f.dataset['layer'] ?? '') ?? '', text);
  byId('layer-filter-count').textContent = text.trim() ? `${shown} of ${rows.length} layers match` : '';
}

/** Weight histograms of the variant picked in #hist-variant: one per op type, per layer on demand. */
function renderHistograms(store: Store): void {
  const select = byId<HTMLSelectElement>('hist-variant');
  const v = store.state.variants[Number(select.value)] ?? store.state.variants[0];
  if (!v) return;
  const a = v.analysis;
  // layers that only read scalars or vectors (Clip bounds, biases) have no weight matrix to show: counted, not listed
  const noMatrix = a.skippedHistograms.filter((x) => /no weight tensor of rank/.test(x.reason));
  const skipped = a.skippedHistograms.filter((x) => !noMatrix.includes(x));
  byId('hist-notes').textContent = [
    skipped.length ? `${skipped.length} layer${skipped.length === 1 ? '' : 's'} without a histogram: ${skipped.slice(0, 3).map((x) => `${x.layer} (${x.reason})`).join('; ')}${skipped.length > 3 ? '; …' : ''}` : '',
    noMatrix.length ? `${noMatrix.length} layer${noMatrix.length === 1 ? ' reads' : 's read'} constants but no weight matrix.` : '',
  ].filter(Boolean).join(' ');
  drawOpHistograms(byId('op-hists'), a.opHistograms);
  byId('hist-summary').textContent = `Per-layer histograms (${a.histograms.length} layers; drawn as they scroll into view)`;
  drawWeightHistograms(byId('weight-hists'), a.histograms);
  applyFilter();
}

/** The model section: facts, op charts, a collapsible sortable per-layer table, weight histograms. */
export function mountModelPanel(store: Store): void {
  const select = byId<HTMLSelectElement>('hist-variant');
  const table = new LayerTable(byId<HTMLTableElement>('layer-table'));
  byId('layer-table').addEventListener('rendered', applyFilter);
  byId('layer-filter').addEventListener('input', applyFilter);
  select.addEventListener('change', () => renderHistograms(store));
  store.on('model', () => {
    const m = store.state.model;
    byId('model-view').hidden = !m;
    if (!m) return;
    const a = m.analysis;
    byId('model-facts').replaceChildren(...facts(m.name, a));
    drawOpHistogram(byId<HTMLCanvasElement>('op-chart'), a.ops);
    drawOpBytes(byId<HTMLCanvasElement>('op-bytes-chart'), a);
    byId('layers-summary').textContent = `Layers (${a.layers.length} with weights${a.gzipMethod === 'native' ? '; gzip sizes by the browser\'s zlib (its default level 6), not fflate' : a.gzipMethod === 'skipped' ? `; per-layer gzip sizes measured up to ${formatBytes(LAYER_GZIP_LIMIT)} of weights` : ''})`;
    // small models open expanded; long lists stay collapsed
    (byId('layers-details') as HTMLDetailsElement).open = a.layers.length <= 12;
    (byId('hist-details') as HTMLDetailsElement).open = a.histograms.length <= 12;
    table.set(a.layers);
  });
  let shown = 0;
  store.on('variants', () => {
    const vs = store.state.variants;
    // a new result shows its own weights; otherwise keep the user's pick
    const pick = vs.length > shown ? vs.length - 1 : Math.min(Number(select.value) || 0, vs.length - 1);
    shown = vs.length;
    select.replaceChildren(...vs.map((v, i) => h('option', { value: i }, v.name)));
    select.value = String(Math.max(0, pick));
    renderHistograms(store);
  });
}
