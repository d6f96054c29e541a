import type { Store } from '../app/state.js';
import { byId } from './dom.js';

/** While a job runs: inputs that would start another are disabled, Cancel is enabled. */
export function mountBusy(store: Store): void {
  store.on('busy', () => {
    const busy = store.state.busy;
    for (const id of ['load-demo', 'model-file', 'add-step', 'recipe-file']) byId<HTMLButtonElement | HTMLInputElement>(id).disabled = busy;
    byId<HTMLButtonElement>('evaluate').disabled = busy || !store.state.model;
    byId<HTMLButtonElement>('cancel').disabled = !busy;
    document.body.dataset['busy'] = String(busy);
  });
}
