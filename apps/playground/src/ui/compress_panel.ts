import { listPasses, parseRecipe } from '@whittle/graph';
import { compressAndEvaluate } from '../app/compress.js';
import type { AppContext } from '../app/context.js';
import { PRESETS } from '../recipes/presets.js';
import type { BackendChoice } from '../worker/protocol.js';
import { byId, download, h, setStatus } from './dom.js';
import { RecipeEditor } from './recipe_editor.js';

/** The compress section: presets, recipe file, steps editor, run options, run and cancel. */
export function mountCompressPanel(ctx: AppContext): RecipeEditor {
  const { store, client } = ctx;
  const status = byId('recipe-status');
  const runButton = byId<HTMLButtonElement>('run');
  const updateRun = (): void => {
    runButton.disabled = store.state.busy || !store.state.model || editor.size === 0 || editor.errors().length > 0;
    if (editor.errors().length) setStatus(status, editor.errors().join('\n'), 'error');
    else if (status.dataset['kind'] === 'error') setStatus(status, '');
  };
  const editor = new RecipeEditor(byId('steps'), updateRun);

  const preset = byId<HTMLSelectElement>('preset');
  preset.replaceChildren(h('option', { value: '' }, '(custom)'), ...PRESETS.map((p) => h('option', { value: p.id }, p.label)));
  preset.addEventListener('change', () => {
    const p = PRESETS.find((x) => x.id === preset.value);
    if (p) editor.setRecipe(p.recipe);
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
  store.on('model', updateRun);
  return editor;
}
