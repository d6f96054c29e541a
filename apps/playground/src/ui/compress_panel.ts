import { listPasses, parseRecipe } from '@whittle/graph';
import { compressAndEvaluate } from '../app/compress.js';
import type { AppContext } from '../app/context.js';
import { describePlan, planSensitivity } from '../app/sensitivity_plan.js';
import { KIND_LABEL, modelKind } from '../recipes/model_kind.js';
import { type Preset, presetsFor } from '../recipes/presets.js';
import type { BackendChoice } from '../worker/protocol.js';
import { byId, download, h, setStatus } from './dom.js';
import { RecipeEditor } from './recipe_editor.js';

/** The compress section: presets, recipe file, steps editor, run options, run and cancel. */
export function mountCompressPanel(ctx: AppContext): RecipeEditor {
  const { store, client } = ctx;
  const status = byId('recipe-status');
  const runButton = byId<HTMLButtonElement>('run');
  const hint = byId('run-hint');
  /** Why Compress cannot run now ('' when it can). */
  const blocker = (): string => {
    if (!store.state.model) return 'Open a model first (section 1).';
    if (store.state.busy) return 'Wait for the running job, or cancel it.';
    if (editor.size === 0) return 'The recipe has no steps: pick a preset or add a pass.';
    if (editor.errors().length) return `Fix the recipe: ${editor.errors()[0]}`;
    return '';
  };
  const updateRun = (): void => {
    const why = blocker();
    runButton.disabled = why !== '';
    runButton.title = why;
    hint.textContent = why;
    hint.hidden = why === '';
    if (editor.errors().length) setStatus(status, editor.errors().join('\n'), 'error');
    else if (status.dataset['kind'] === 'error') setStatus(status, '');
  };
  const editor = new RecipeEditor(byId('steps'), updateRun);

  const preset = byId<HTMLSelectElement>('preset');
  let offered: Preset[] = [];
  preset.addEventListener('change', () => {
    const p = offered.find((x) => x.id === preset.value);
    if (p) editor.setRecipe(p.recipe);
  });
  /** Offer the presets that fit the opened model and load its default one. */
  const offerPresets = (): void => {
    const m = store.state.model;
    if (!m) return;
    const kind = modelKind(m.analysis);
    const list = presetsFor(kind.kind, !!m.demo);
    offered = list.filter((x) => !x.unavailable).map((x) => x.preset);
    preset.replaceChildren(
      h('option', { value: '' }, '(custom)'),
      ...list.map((x) => h('option', { value: x.preset.id, disabled: !!x.unavailable, title: x.unavailable }, `${x.preset.label}${x.unavailable ? ` — ${x.unavailable}` : ''}`)),
    );
    byId('preset-kind').textContent = `for a ${KIND_LABEL[kind.kind]}; default: ${offered[0]?.label ?? 'none'}`;
    if (offered[0]) {
      preset.value = offered[0].id;
      editor.setRecipe(offered[0].recipe);
    }
  };
  /** Sensitivity: on by default only for small models; what it will measure and how long it should take. */
  const sensitivityBox = byId<HTMLInputElement>('with-sensitivity');
  const showPlan = (setDefault: boolean): void => {
    const m = store.state.model;
    if (!m) return;
    const plan = planSensitivity(m.analysis, store.state.variants[0]?.eval?.timing);
    if (setDefault) sensitivityBox.checked = plan.defaultOn;
    sensitivityBox.disabled = plan.totalLayers === 0;
    if (plan.totalLayers === 0) sensitivityBox.checked = false;
    const planText = byId('sensitivity-plan');
    planText.textContent = plan.totalLayers === 0
      ? '(no layer whose weights are initializers: nothing to measure)'
      : `(${describePlan(plan)}${plan.defaultOn ? '' : '; off by default for models this size'})`;
    if (plan.estimateSeconds !== undefined) planText.dataset['estimate'] = plan.estimateSeconds.toFixed(1);
    else delete planText.dataset['estimate'];
  };
  byId('clear-steps').addEventListener('click', () => {
    editor.setRecipe({ passes: [] });
    preset.value = '';
  });

  const passSelect = byId<HTMLSelectElement>('pass-select');
  passSelect.replaceChildren(...listPasses().map((p) => h('option', { value: p.name, title: p.description }, p.name)));
  byId('add-step').addEventListener('click', () => {
    editor.add(passSelect.value);
    preset.value = '';
  });

  byId<HTMLInputElement>('recipe-file').addEventListener('change', async (e) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    input.value = '';
    if (!f) return;
    try {
      editor.setRecipe(parseRecipe(await f.text()));
      preset.value = '';
      setStatus(status, `Loaded recipe ${f.name}.`, 'ok');
    } catch (err) {
      setStatus(status, `${f.name}: ${(err as Error).message}`, 'error');
    }
  });
  byId('export-recipe').addEventListener('click', () => {
    try {
      download('recipe.json', `${JSON.stringify(editor.toRecipe(), null, 2)}\n`, 'application/json');
    } catch (err) {
      setStatus(status, (err as Error).message, 'error');
    }
  });

  runButton.addEventListener('click', () => {
    let recipe;
    try {
      recipe = editor.toRecipe();
    } catch (err) {
      setStatus(status, (err as Error).message, 'error');
      return;
    }
    const seed = Math.max(0, Math.floor(Number(byId<HTMLInputElement>('seed').value) || 0));
    const backend = byId<HTMLSelectElement>('backend-choice').value as BackendChoice;
    const sensitivity = byId<HTMLInputElement>('with-sensitivity').checked;
    void compressAndEvaluate(ctx, recipe, { seed, backend, sensitivity });
  });
  byId('cancel').addEventListener('click', () => void client.cancel());
  store.on('busy', updateRun);
  store.on('model', () => {
    offerPresets();
    showPlan(true);
    updateRun();
  });
  store.on('evaluation', () => showPlan(false));
  return editor;
}
