import type { Store } from '../app/state.js';
import { drawOpHistogram } from '../charts/op_histogram.js';
import { drawWeightHistograms } from '../charts/weight_histograms.js';
import type { ModelAnalysis } from '../worker/protocol.js';
import { byId, h } from './dom.js';
import { count, formatBytes, shape } from './format.js';

function facts(name: string, a: ModelAnalysis): HTMLElement[] {
  const row = (k: string, v: string, key: string, value: number | string = v): HTMLElement[] => [h('dt', {}, k), h('dd', { 'data-fact': key, 'data-value': value }, v)];
  return [
    ...row('Model', name, 'name'),
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

function layerTable(a: ModelAnalysis): HTMLElement[] {
  const head = h('tr', {}, ...['Layer', 'Op', 'Parameters', 'Bytes', 'gzip', 'FLOPs'].map((t) => h('th', {}, t)));
  const rows = a.layers.map((l) =>
    h(
      'tr',
      { 'data-layer': l.name },
      h('td', {}, l.name),
      h('td', {}, l.opType),
      h('td', { 'data-value': l.parameters }, count(l.parameters)),
      h('td', { 'data-value': l.bytes }, formatBytes(l.bytes)),
      h('td', { 'data-value': l.gzipBytes }, formatBytes(l.gzipBytes)),
      h('td', { 'data-value': l.flops }, count(l.flops)),
    ),
  );
  return [h('thead', {}, head), h('tbody', {}, ...rows)];
}

/** Weight histograms of the variant picked in #hist-variant. */
function renderHistograms(store: Store): void {
  const select = byId<HTMLSelectElement>('hist-variant');
  const v = store.state.variants[Number(select.value)] ?? store.state.variants[0];
  if (!v) return;
  const a = v.analysis;
  byId('hist-notes').textContent = a.skippedHistograms.map((s) => `${s.layer}: no histogram (${s.reason})`).join('; ');
  drawWeightHistograms(byId('weight-hists'), a.histograms);
}

/** The model section: facts, op histogram, per-layer table, weight histograms. */
export function mountModelPanel(store: Store): void {
  const select = byId<HTMLSelectElement>('hist-variant');
  select.addEventListener('change', () => renderHistograms(store));
  store.on('model', () => {
    const m = store.state.model;
    byId('model-view').hidden = !m;
    if (!m) return;
    byId('model-facts').replaceChildren(...facts(m.name, m.analysis));
    drawOpHistogram(byId<HTMLCanvasElement>('op-chart'), m.analysis.ops);
    byId('layer-table').replaceChildren(...layerTable(m.analysis));
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
