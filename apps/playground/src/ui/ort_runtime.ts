import type { AppContext } from '../app/context.js';
import type { OrtChoice } from '../worker/ort_choice.js';
import { byId } from './dom.js';

/** Ask the worker which execution provider the forward passes use for the current choice and say so under the evaluate toolbar. */
async function showOrtRuntime(ctx: AppContext): Promise<void> {
  const line = byId('ort-runtime');
  try {
    const r = await ctx.client.run({ kind: 'ort-probe', ort: ctx.store.state.ortChoice });
    line.dataset['ep'] = r.ep;
    line.dataset['kind'] = 'ok';
    line.textContent = `Forward passes (evaluation, sensitivity) run in onnxruntime-web on ${r.ep === 'webgpu' ? 'WebGPU' : 'wasm'}: ${r.reason}.`;
  } catch (e) {
    line.dataset['ep'] = '';
    line.dataset['kind'] = 'error';
    line.textContent = `onnxruntime-web execution provider unavailable: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The "Forward passes on" choice (auto / wasm / WebGPU) and the line that names the provider in use. */
export function mountOrtRuntime(ctx: AppContext): Promise<void> {
  const select = byId<HTMLSelectElement>('ort-choice');
  select.value = ctx.store.state.ortChoice;
  select.addEventListener('change', () => {
    ctx.store.state.ortChoice = select.value as OrtChoice;
    void showOrtRuntime(ctx);
  });
  return showOrtRuntime(ctx);
}
