/**
 * Whittle playground: open an ONNX model (file, drop, or the MNIST demo), compress it with
 * registered passes in a Web Worker (WebGPU when there is an adapter, JS/WASM otherwise),
 * evaluate it with onnxruntime-web (WebGPU on a hardware GPU, wasm otherwise), download the
 * model, the report and the model card.
 */
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import type { AppContext } from './app/context.js';
import { EvalSource } from './app/eval_source.js';
import { Store } from './app/state.js';
import { WorkerClient } from './app/worker_client.js';
import { showBackend } from './ui/backend_badge.js';
import { mountBusy } from './ui/busy.js';
import { mountCompressPanel } from './ui/compress_panel.js';
import { mountDownloads } from './ui/downloads.js';
import { mountEvalPanel } from './ui/eval_panel.js';
import { mountLoaders } from './ui/loaders.js';
import { mountMemory } from './ui/memory.js';
import { mountModelPanel } from './ui/model_panel.js';
import { mountOrtRuntime } from './ui/ort_runtime.js';

const store = new Store();
const client = new WorkerClient(() => new Worker(new URL('./worker/main.ts', import.meta.url), { type: 'module', name: 'whittle-compress' }));
const ctx: AppContext = { store, client, evalSource: new EvalSource(store) };

mountBusy(store);
mountModelPanel(store);
mountCompressPanel(ctx);
mountEvalPanel(ctx);
mountDownloads(ctx);
mountLoaders(ctx);
mountMemory(store);
store.emit('busy');
void Promise.all([showBackend(client), mountOrtRuntime(ctx)]).then(() => {
  document.body.dataset['ready'] = 'true';
});
