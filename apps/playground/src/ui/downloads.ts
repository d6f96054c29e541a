import { reportToJson, reportToMarkdown } from '@whittle/eval';
import type { AppContext } from '../app/context.js';
import { currentModelCard, currentReport } from '../app/report.js';
import { byId, download } from './dom.js';

/** The download buttons: the selected variant's model, the report, its model card, its recipe. */
export function mountDownloads(ctx: AppContext): void {
  const { store } = ctx;
  const s = store.state;
  const button = (id: string) => byId<HTMLButtonElement>(id);
  button('dl-model').addEventListener('click', () => {
    const v = store.selectedVariant;
    if (v) download(`${v.name}.onnx`, v.bytes, 'application/octet-stream');
  });
  button('dl-report-json').addEventListener('click', () => {
    const r = currentReport(s, s.runtime);
    if (r) download('report.json', reportToJson(r), 'application/json');
  });
  button('dl-report-md').addEventListener('click', () => {
    const r = currentReport(s, s.runtime);
    if (r) download('report.md', reportToMarkdown(r), 'text/markdown');
  });
  button('dl-card').addEventListener('click', () => {
    const r = currentReport(s, s.runtime);
    if (r) download('MODEL_CARD.md', currentModelCard(s, r), 'text/markdown');
  });
  button('dl-recipe').addEventListener('click', () => {
    const recipe = store.selectedVariant?.recipe;
    if (recipe) download('recipe.json', `${JSON.stringify(recipe, null, 2)}\n`, 'application/json');
  });
  const refresh = (): void => {
    const v = store.selectedVariant;
    const report = !!s.variants[0]?.eval;
    button('dl-model').disabled = !v || s.selected === 0;
    button('dl-model').textContent = v && s.selected > 0 ? `Compressed model (${v.name}.onnx)` : 'Compressed model (.onnx)';
    button('dl-report-json').disabled = !report;
    button('dl-report-md').disabled = !report;
    button('dl-card').disabled = !report || !v?.eval;
    button('dl-recipe').disabled = !v?.recipe;
  };
  store.on('evaluation', refresh);
  store.on('variants', refresh);
}
