import type { EvaluationReport } from '@whittle/eval';
import type { Variant } from '../app/state.js';
import { h } from './dom.js';
import { count, db, formatBytes, pct } from './format.js';

type Cell = { metric: string; value: number | undefined; text: string };

function cells(r: EvaluationReport['rows'][number] | undefined, isBase: boolean): Cell[] {
  const f = r?.fidelity;
  return [
    { metric: 'fileBytes', value: r?.size.fileBytes, text: r ? formatBytes(r.size.fileBytes) : '–' },
    { metric: 'gzipBytes', value: r?.size.gzipBytes, text: r ? formatBytes(r.size.gzipBytes) : '–' },
    { metric: 'ratio', value: r?.ratio, text: r ? `${r.ratio.toFixed(2)}×` : '–' },
    { metric: 'parameters', value: r?.size.parameters, text: r ? count(r.size.parameters) : '–' },
    { metric: 'sparsity', value: r?.size.sparsity, text: pct(r?.size.sparsity, 1) },
    { metric: 'accuracy', value: r?.accuracy, text: pct(r?.accuracy) },
    { metric: 'deltaPt', value: isBase ? undefined : r?.deltaPt, text: isBase || r?.deltaPt === undefined ? '—' : `${r.deltaPt >= 0 ? '+' : ''}${r.deltaPt.toFixed(2)} pt` },
    { metric: 'top1Agreement', value: f?.top1Agreement, text: pct(f?.top1Agreement) },
    { metric: 'cosine', value: f?.cosine, text: f ? f.cosine.toFixed(5) : '–' },
    { metric: 'sqnrDb', value: f?.sqnrDb, text: db(f?.sqnrDb) },
  ];
}

const HEAD = ['', 'Variant', 'Technique', 'File', 'Gzip', 'Ratio', 'Params', 'Sparsity', 'Accuracy', 'Δ', 'Top-1 agr.', 'Cosine', 'SQNR dB'];

/**
 * The variants table: one row per variant with the report's figures (★ = on the Pareto front),
 * a radio to select the variant downloads and the model card refer to. Every number cell
 * carries its exact value in `data-value`.
 */
export function resultsTable(variants: readonly Variant[], report: EvaluationReport | undefined, selected: number, onSelect: (i: number) => void): HTMLElement[] {
  const head = h('tr', {}, ...HEAD.map((t, i) => h('th', { class: i === 2 ? 'text' : undefined }, t)));
  const rows = variants.map((v, i) => {
    const r = report?.rows.find((x) => x.name === v.name);
    const radio = h('input', { type: 'radio', name: 'selected-variant', value: i, checked: i === selected, 'aria-label': `select ${v.name}` });
    radio.addEventListener('change', () => onSelect(i));
    const err = v.eval?.error;
    return h(
      'tr',
      { 'data-variant': v.name, 'data-index': i },
      h('td', {}, radio, r?.pareto ? ' ★' : ''),
      h('td', {}, v.name),
      h('td', { class: 'text' }, v.technique, err ? h('div', { class: 'warn' }, `onnxruntime-web: ${err}`) : null),
      ...cells(r, i === 0).map((c) => h('td', { 'data-metric': c.metric, 'data-value': c.value === undefined ? undefined : String(c.value) }, c.text)),
    );
  });
  return [h('thead', {}, head), h('tbody', {}, ...rows)];
}
